import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { EXEC_WS_PROTOCOLS, negotiate, PORTFORWARD_WS_PROTOCOLS } from "./channels";
import { exitStatus, execOptions, forwardPorts, StreamError } from "./options";
import { onSizes } from "./session";

const status = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof StreamError ? e.status : String(e);
  }
  return undefined;
};

describe("stream options as kubelet reads them", () => {
  it("exec: repeated command, booleans as kube-apiserver decodes them, stderr dropped with a TTY", () => {
    expect(execOptions("command=sh&command=-c&command=echo%20hi&stdin=true&stdout=1&stderr=True&tty=false", true)).toEqual({
      command: ["sh", "-c", "echo hi"],
      stdin: true,
      stdout: true,
      stderr: true,
      tty: false,
    });
    expect(execOptions("command=sh&stdout=true&stderr=true&tty=true", true)).toMatchObject({ stderr: false, tty: true });
    expect(execOptions("command=sh&stdout=0&stdin=FALSE&stderr=yes", true)).toMatchObject({ stdout: false, stdin: false, stderr: true });
  });

  it("exec: no command, or no stream at all, is a 400 naming what is missing", () => {
    expect(status(() => execOptions("stdout=true", true))).toMatchObject({ code: 400, reason: "BadRequest", message: expect.stringContaining("command") });
    expect(status(() => execOptions("command=ls", true))).toMatchObject({ code: 400, message: expect.stringContaining("stdin, stdout, stderr") });
    expect(execOptions("stdout=true", false)).toMatchObject({ command: [], stdout: true });
  });

  it("port-forward ports: repeated or comma-separated, 1-65535, else a 400", () => {
    expect(forwardPorts("ports=8080&ports=53,9090")).toEqual([8080, 53, 9090]);
    for (const bad of ["", "ports=", "ports=0", "ports=65536", "ports=http", "ports=80,-1"])
      expect(
        status(() => forwardPorts(bad)),
        bad,
      ).toMatchObject({ code: 400 });
    expect(status(() => forwardPorts(`ports=${Array.from({ length: 128 }, (_, i) => i + 1).join(",")}`))).toMatchObject({ code: 400 });
  });

  it("the exit Status: Success, or NonZeroExitCode with the code as the ExitCode cause", () => {
    expect(exitStatus(0, ["true"])).toEqual({ metadata: {}, status: "Success" });
    expect(exitStatus(7, ["sh", "-c", "exit 7"])).toMatchObject({
      status: "Failure",
      reason: "NonZeroExitCode",
      details: { causes: [{ reason: "ExitCode", message: "7" }] },
      message: expect.stringContaining("exited with 7"),
    });
  });

  it("subprotocols: the first the client offered that the agent speaks; none offered is the unnamed binary protocol", () => {
    expect(negotiate(["v5.channel.k8s.io", "v4.channel.k8s.io"], EXEC_WS_PROTOCOLS)).toBe("v5.channel.k8s.io");
    expect(negotiate(["v3.channel.k8s.io", "v4.channel.k8s.io"], EXEC_WS_PROTOCOLS)).toBe("v4.channel.k8s.io");
    // client-node offers v5 first; kubelet's port-forward has no v5
    expect(negotiate(["v5.channel.k8s.io", "v4.channel.k8s.io"], PORTFORWARD_WS_PROTOCOLS)).toBe("v4.channel.k8s.io");
    expect(negotiate([], EXEC_WS_PROTOCOLS)).toBe("");
    expect(negotiate(["x"], EXEC_WS_PROTOCOLS)).toBeUndefined();
  });

  it("terminal sizes: JSON objects one after another, split anywhere; nonsense skipped", () => {
    const r = new PassThrough();
    const seen: [number, number][] = [];
    onSizes(r, (w, h) => seen.push([w, h]));
    r.write('{"Width":80,"Hei');
    r.write('ght":24}{"Width":100,"Height":40}');
    r.write('{"Width":-1,"Height":3}{"Width":"x"}{nope}');
    r.write('{"Width":120,"Height":50}');
    expect(seen).toEqual([
      [80, 24],
      [100, 40],
      [120, 50],
    ]);
  });
});
