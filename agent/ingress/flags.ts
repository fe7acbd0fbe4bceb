/** --ingress-http-port / --ingress-https-port, checked (0 picks a free port: tests). */
export const ingressPorts = (http: unknown, https: unknown): { httpPort?: number; httpsPort?: number } => {
  const port = (v: unknown, flag: string) => {
    if (v === undefined || v === null || v === "") return undefined;
    const s = String(v);
    if (!/^\d+$/.test(s) || Number(s) > 65535) throw new Error(`--${flag}: "${s}" is not a port number (0-65535)`);
    return Number(s);
  };
  const httpPort = port(http, "ingress-http-port");
  const httpsPort = port(https, "ingress-https-port");
  return { ...(httpPort !== undefined ? { httpPort } : {}), ...(httpsPort !== undefined ? { httpsPort } : {}) };
};
