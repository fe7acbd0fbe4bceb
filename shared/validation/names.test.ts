import { describe, expect, it } from "vitest";
import {
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isEnvVarName,
  isQualifiedName,
  isValidIP,
  isValidLabelValue,
  isValidPercent,
  isValidPortName,
  isValidPortNum,
  nameIsDNSSubdomain,
} from "./names";

describe("DNS names", () => {
  it("checks RFC 1123 labels", () => {
    for (const ok of ["a", "my-name", "123-abc", "x".repeat(63)]) expect(isDNS1123Label(ok), ok).toEqual([]);
    expect(isDNS1123Label("My_Name")).toEqual([
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    ]);
    expect(isDNS1123Label("a.b")).toEqual(["must not contain dots"]);
    expect(isDNS1123Label("x".repeat(64))).toEqual(["must be no more than 63 characters"]);
    expect(isDNS1123Label("-a")).toHaveLength(1);
    expect(isDNS1123Label("")).toHaveLength(1);
  });

  it("checks RFC 1123 subdomains", () => {
    for (const ok of ["a", "example.com", "a-b.c-d.e", "0.1"]) expect(isDNS1123Subdomain(ok), ok).toEqual([]);
    expect(isDNS1123Subdomain("Example.com")[0]).toMatch(
      /^a lowercase RFC 1123 subdomain must consist of .*\(e\.g\. 'example\.com', regex used for validation is/,
    );
    expect(isDNS1123Subdomain("a..b")).toHaveLength(1);
    expect(isDNS1123Subdomain(`${"a".repeat(250)}.bcd`)).toEqual(["must be no more than 253 characters"]);
  });

  it("checks RFC 1035 labels (Service names)", () => {
    expect(isDNS1035Label("my-svc")).toEqual([]);
    expect(isDNS1035Label("1svc")[0]).toContain(
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character",
    );
  });

  it("accepts generateName prefixes with a trailing dash", () => {
    expect(nameIsDNSSubdomain("web-", true)).toEqual([]);
    expect(nameIsDNSSubdomain("web-", false)).toHaveLength(1);
    expect(nameIsDNSSubdomain("Web-", true)).toHaveLength(1);
  });
});

describe("qualified names and label values", () => {
  it("checks qualified names with an optional prefix", () => {
    for (const ok of ["app", "app.kubernetes.io/name", "example.com/My_Key-1", "a"]) expect(isQualifiedName(ok), ok).toEqual([]);
    expect(isQualifiedName("bad key")).toEqual([
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    ]);
    expect(isQualifiedName("/x")).toEqual(["prefix part must be non-empty"]);
    expect(isQualifiedName("Example.com/x")[0]).toMatch(/^prefix part a lowercase RFC 1123 subdomain/);
    expect(isQualifiedName("a/b/c")[0]).toMatch(
      /^a qualified name must consist of .* with an optional DNS subdomain prefix and '\/' \(e\.g\. 'example\.com\/MyName'\)$/,
    );
    expect(isQualifiedName("")).toContain("name part must be non-empty");
    expect(isQualifiedName("x".repeat(64))).toContain("name part must be no more than 63 characters");
  });

  it("checks label values", () => {
    for (const ok of ["", "v1", "my_value", "12345", "a.b-c"]) expect(isValidLabelValue(ok), ok).toEqual([]);
    expect(isValidLabelValue("-x")[0]).toContain("a valid label must be an empty string or consist of alphanumeric characters");
    expect(isValidLabelValue("x".repeat(64))).toContain("must be no more than 63 characters");
  });
});

describe("ports, environment, keys, percents, IPs", () => {
  it("checks port names and numbers", () => {
    expect(isValidPortName("http")).toEqual([]);
    expect(isValidPortName("http-alt2")).toEqual([]);
    expect(isValidPortName("8080")).toEqual(["must contain at least one letter (a-z)"]);
    expect(isValidPortName("a--b")).toEqual(["must not contain consecutive hyphens"]);
    expect(isValidPortName("-ab")).toEqual(["must not begin or end with a hyphen"]);
    expect(isValidPortName("HTTP")).toEqual([
      "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
      "must contain at least one letter (a-z)",
    ]);
    expect(isValidPortName("a".repeat(16))).toEqual(["must be no more than 15 characters"]);
    expect(isValidPortNum(1)).toEqual([]);
    expect(isValidPortNum(65535)).toEqual([]);
    expect(isValidPortNum(0)).toEqual(["must be between 1 and 65535, inclusive"]);
    expect(isValidPortNum(65536)).toHaveLength(1);
    expect(isValidPortNum(1.5)).toHaveLength(1);
  });

  it("checks environment variable names (relaxed rule)", () => {
    for (const ok of ["PATH", "my.var-1", "1ABC", "a b"]) expect(isEnvVarName(ok), ok).toEqual([]);
    expect(isEnvVarName("A=B")).toEqual(["a valid environment variable name must consist only of printable ASCII characters other than '='"]);
    expect(isEnvVarName("é")).toHaveLength(1);
    expect(isEnvVarName("")).toEqual(["environment variable name must be non-empty"]);
  });

  it("checks config keys", () => {
    for (const ok of ["a", "key.name", "KEY_NAME", "key-name", ".hidden"]) expect(isConfigMapKey(ok), ok).toEqual([]);
    expect(isConfigMapKey("a b")).toHaveLength(1);
    expect(isConfigMapKey(".")).toEqual(["must not be '.'"]);
    expect(isConfigMapKey("..")).toEqual(["must not be '..'"]);
    expect(isConfigMapKey("..a")).toEqual(["must not start with '..'"]);
  });

  it("checks percentages and IP addresses", () => {
    expect(isValidPercent("25%")).toEqual([]);
    expect(isValidPercent("25")[0]).toContain("a valid percent string must be a numeric string followed by an ending '%'");
    for (const ip of ["10.0.0.1", "255.255.255.255", "::1", "2001:db8::ffff", "fe80::1:2:3:4", "::ffff:10.0.0.1", "1:2:3:4:5:6:7:8"])
      expect(isValidIP(ip), ip).toBe(true);
    for (const ip of ["", "10.0.0", "256.0.0.1", "a.b.c.d", "1::2::3", "1:2:3:4:5:6:7:8:9", "gggg::1", "10.0.0.01"]) expect(isValidIP(ip), ip).toBe(false);
  });
});
