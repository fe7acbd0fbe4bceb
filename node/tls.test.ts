import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ensureTls } from "./tls";

const dir = mkdtempSync(join(tmpdir(), "kf-tls-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** GET https://host:port/ trusting only `ca`; resolves the body or rejects on a TLS error. */
const fetchWithCa = (host: string, port: number, ca: string) =>
  new Promise<string>((resolve, reject) => {
    import("node:https").then(({ get }) =>
      get({ host, port, path: "/", ca, servername: host === "127.0.0.1" ? undefined : host }, (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve(body));
      }).on("error", reject),
    );
  });

describe("TLS material", () => {
  it("creates a CA and a server certificate trusted for localhost and 127.0.0.1, with private keys 0600", async () => {
    const tls = await ensureTls(dir, { sans: ["kubeflare.example"] });
    const server = createServer({ key: tls.key, cert: tls.cert }, (_req, res) => res.end("hello"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as AddressInfo).port;
    try {
      expect(await fetchWithCa("127.0.0.1", port, tls.ca)).toBe("hello");
      expect(await fetchWithCa("localhost", port, tls.ca)).toBe("hello");
      // a different CA is not trusted
      const other = await ensureTls(mkdtempSync(join(tmpdir(), "kf-tls-other-")), { sans: [] });
      await expect(fetchWithCa("127.0.0.1", port, other.ca)).rejects.toThrow();
    } finally {
      server.close();
    }
    expect(statSync(join(dir, "tls", "ca.key")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "tls", "server.key")).mode & 0o777).toBe(0o600);
  });

  it("reuses the files, and reissues the server certificate (same CA) when the names change", async () => {
    const before = readFileSync(join(dir, "tls", "server.crt"), "utf8");
    const same = await ensureTls(dir, { sans: ["kubeflare.example"] });
    expect(same.cert).toBe(before);
    const caBefore = same.ca;
    const more = await ensureTls(dir, { sans: ["kubeflare.example", "10.0.0.5"] });
    expect(more.cert).not.toBe(before);
    expect(more.ca).toBe(caBefore);
  });

  it("uses the operator's own certificate files when given", async () => {
    const tls = await ensureTls(dir, { sans: [] });
    const own = await ensureTls(dir, { sans: [], certFile: join(dir, "tls", "server.crt"), keyFile: join(dir, "tls", "server.key") });
    expect(own.cert).toBe(tls.cert);
    await expect(ensureTls(dir, { sans: [], certFile: join(dir, "tls", "server.crt") })).rejects.toThrow(/go together/);
  });
});
