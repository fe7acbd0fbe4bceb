/** The agent's token manager on a fake clock: kept while fresh, renewed at 80 % of the lifetime, kept through an outage while valid. */
import { describe, expect, it } from "vitest";
import { ApiRequestError } from "./api";
import { ConfigError } from "./env";
import { TokenManager } from "./tokens";

const pod = { metadata: { name: "p", namespace: "ns", uid: "u1" }, spec: { serviceAccountName: "sa" } };

const fakeApi = () => {
  const calls: { path: string; body: any }[] = [];
  let fail: Error | undefined;
  return {
    calls,
    failWith: (e: Error | undefined) => {
      fail = e;
    },
    request: (async (_method: string, path: string, body: any) => {
      calls.push({ path, body });
      if (fail) throw fail;
      const seconds = body.spec.expirationSeconds;
      // the server's clock is the agent's here (expirationTimestamp is absolute)
      return { status: { token: `t${calls.length}`, expirationTimestamp: new Date(Date.now() + seconds * 1000).toISOString() } };
    }) as any,
  };
};

describe("TokenManager", () => {
  it("asks for a token bound to the pod, keeps it until 80 % of its lifetime, then asks again", async () => {
    const clock = { t: 1_000_000 };
    const api = fakeApi();
    const m = new TokenManager({ api, now: () => clock.t });
    expect(await m.token(pod, { path: "token", expirationSeconds: 3607 })).toBe("t1");
    expect(api.calls[0].path).toBe("/api/v1/namespaces/ns/serviceaccounts/sa/token");
    expect(api.calls[0].body.spec).toEqual({ expirationSeconds: 3607, boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "p", uid: "u1" } });
    clock.t += 0.79 * 3607_000;
    expect(await m.token(pod, { path: "token", expirationSeconds: 3607 })).toBe("t1");
    expect(api.calls).toHaveLength(1);
    clock.t += 0.02 * 3607_000;
    expect(await m.token(pod, { path: "token", expirationSeconds: 3607 })).toBe("t2");
    expect(api.calls).toHaveLength(2);
    // another audience is another token
    expect(await m.token(pod, { path: "vault", audience: "vault", expirationSeconds: 600 })).toBe("t3");
    expect(api.calls[2].body.spec.audiences).toEqual(["vault"]);
  });

  it("keeps a valid token while the control plane is unreachable; a refusal with none is a ConfigError (the pod waits)", async () => {
    const clock = { t: 0 };
    const api = fakeApi();
    const m = new TokenManager({ api, now: () => clock.t });
    expect(await m.token(pod, { expirationSeconds: 1000 })).toBe("t1");
    clock.t += 900_000;
    api.failWith(new Error("connect ECONNREFUSED"));
    expect(await m.token(pod, { expirationSeconds: 1000 })).toBe("t1");
    clock.t += 200_000; // expired: nothing to fall back on
    await expect(m.token(pod, { expirationSeconds: 1000 })).rejects.toThrow("ECONNREFUSED");
    api.failWith(new ApiRequestError(404, "NotFound", 'serviceaccounts "sa" not found'));
    m.forget("u1");
    await expect(m.token(pod, { expirationSeconds: 1000 })).rejects.toBeInstanceOf(ConfigError);
  });
});
