import { describe, expect, it } from "vitest";
import { containerEnv } from "./env";
import { expand, expandCommandAndArgs, mappingFor } from "./expansion";

describe("$(VAR) expansion (kubelet's rules)", () => {
  const mapping = mappingFor(
    new Map([
      ["A", "a"],
      ["EMPTY", ""],
      ["REF", "$(A)"],
    ]),
    new Map([
      ["B", "b"],
      ["A", "shadowed"],
    ]),
  );
  it.each([
    ["$(A)", "a"],
    ["$(A)/$(B)-$(A)", "a/b-a"],
    ["x$(EMPTY)y", "xy"],
    // the first context that has the name wins
    ["$(B)", "b"],
    // unknown names stay as written
    ["$(NOPE) $(A)", "$(NOPE) a"],
    ["$()", "$()"],
    // $$ is a literal $
    ["$$(A)", "$(A)"],
    ["$$(A)_$(A)", "$(A)_a"],
    ["cost: $$5", "cost: $5"],
    ["$$$$$$(UNSET)", "$$$(UNSET)"],
    ["$$$$$$(A)", "$$$(A)"],
    ["$$$$$$$(A)", "$$$a"],
    ["$$$$$$$(UNSET)", "$$$$(UNSET)"],
    // a value holding a reference is not expanded again
    ["$(REF)", "$(A)"],
    // shell syntax and stray operators pass through
    ["$A $? $! $A)", "$A $? $! $A)"],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, on purpose
    ["${A}", "${A}"],
    ["end$", "end$"],
    ["$(A)trail$", "atrail$"],
    // unterminated references are kept, and scanning goes on after them
    ["x$(A", "x$(A"],
    ["$(A)__$(", "a__$("],
    ["--$($($(--", "--$($($(--"],
    // no nesting: the name runs to the first )
    ["$(A$(B))", "$(A$(B))"],
    ["$(x$$y)", "$(x$$y)"],
    // backslashes are not escapes
    ["\\$(A)", "\\a"],
    ["$é$(A)", "$éa"],
    ["$😀$(A)", "$😀a"],
    ["\n", "\n"],
  ])("%j -> %j", (input, out) => {
    expect(expand(input, mapping)).toBe(out);
  });

  const pod = (env: any[], extra: any = {}) => ({
    metadata: { name: "p", namespace: "shop", uid: "u1" },
    spec: { containers: [{ name: "c", env, ...extra }] },
  });
  const api = (objs: Record<string, any> = {}) => ({ find: async (path: string) => objs[path] ?? null });
  const services = [
    { metadata: { namespace: "default", name: "kubernetes" }, spec: { clusterIP: "10.43.0.1", ports: [{ name: "https", port: 443, protocol: "TCP" }] } },
  ];
  const envOf = async (env: any[], extra: any = {}, objs: Record<string, any> = {}) => {
    const p = pod(env, extra) as any;
    const lines = await containerEnv(api(objs), p, p.spec.containers[0], "10.42.0.5", "127.0.0.1", services as any);
    return { lines, vars: Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)])) };
  };

  it("expands env values against the earlier entries, envFrom and the service environment, in order", async () => {
    const { vars, lines } = await envOf(
      [
        { name: "LATER_FIRST", value: "[$(GREETING)]" },
        { name: "GREETING", value: "hello" },
        { name: "MSG", value: "$(GREETING) $(NAME) from $(POD) via $(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)" },
        { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        { name: "AFTER", value: "$(POD)/$(FROM_CM)/$$(GREETING)" },
        { name: "RAW", valueFrom: { configMapKeyRef: { name: "cfg", key: "raw" } } },
        { name: "SELF", value: "$(SELF)x" },
        { name: "GREETING", value: "$(GREETING)!" },
      ],
      { envFrom: [{ configMapRef: { name: "cfg" } }, { prefix: "CM_", configMapRef: { name: "cfg" } }] },
      { "/api/v1/namespaces/shop/configmaps/cfg": { data: { NAME: "kubeflare", FROM_CM: "cm", raw: "$(GREETING)" } } },
    );
    expect(vars).toMatchObject({
      // a reference to a name defined later stays as written
      LATER_FIRST: "[$(GREETING)]",
      // POD is defined after MSG: not yet known
      MSG: "hello kubeflare from $(POD) via 10.43.0.1:443",
      AFTER: "p/cm/$(GREETING)",
      // values from references are not expanded
      RAW: "$(GREETING)",
      SELF: "$(SELF)x",
      // a redefinition sees the earlier value, and replaces it
      GREETING: "hello!",
      CM_NAME: "kubeflare",
      KUBERNETES_SERVICE_HOST: "10.43.0.1",
    });
    expect(lines.filter((l) => l.startsWith("GREETING="))).toEqual(["GREETING=hello!"]);
  });

  it("a variable the container sets wins over the service environment, in its own expansion too", async () => {
    const { vars } = await envOf([
      { name: "KUBERNETES_SERVICE_HOST", value: "mine" },
      { name: "USE", value: "$(KUBERNETES_SERVICE_HOST)" },
    ]);
    expect(vars.KUBERNETES_SERVICE_HOST).toBe("mine");
    expect(vars.USE).toBe("mine");
  });

  it("expands command and args against the final environment; $$ escapes, unknown names stay", async () => {
    const { lines } = await envOf([
      { name: "FILE", value: "/etc/os-release" },
      { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    ]);
    const out = expandCommandAndArgs(
      { command: ["sh", "-c", "echo $(POD) $$(POD) $(NOPE) $HOME"], args: ["tail", "-f", "$(FILE)", "$(KUBERNETES_SERVICE_PORT_HTTPS)"] },
      lines,
    );
    expect(out).toEqual({ command: ["sh", "-c", "echo p $(POD) $(NOPE) $HOME"], args: ["tail", "-f", "/etc/os-release", "443"] });
    expect(expandCommandAndArgs({}, lines)).toEqual({ command: undefined, args: undefined });
    // the later line of a name wins, and a value may hold '='
    expect(expandCommandAndArgs({ args: ["$(X)"] }, ["X=1", "X=a=b"]).args).toEqual(["a=b"]);
  });
});
