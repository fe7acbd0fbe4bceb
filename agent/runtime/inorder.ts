/**
 * A terminal's resizes applied one after another, in the order they came, the newest
 * last: each is a request to the engine (Docker's exec/attach resize, `stty` on
 * containerd's terminal), and several sent at once (a window dragged, xterm's fit
 * changing columns then rows) could land in any order and leave the terminal at an
 * older size. A failed resize is dropped (the next one sets the size anyway); one still
 * waiting when a newer comes is skipped.
 */
export const inOrder = (apply: (w: number, h: number) => Promise<unknown>): ((w: number, h: number) => void) => {
  let chain: Promise<unknown> = Promise.resolve();
  let newest = 0;
  return (w, h) => {
    const mine = ++newest;
    chain = chain.then(() => (mine === newest ? apply(w, h) : undefined)).catch(() => undefined);
  };
};
