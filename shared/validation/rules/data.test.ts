import { describe, expect, it } from "vitest";
import { applyDefaults } from "../../defaults";
import { resourceByName } from "../../../workers/registry/kinds";
import type { KObject } from "../../types";
import { validateObject } from "../index";

const check = (resource: string, body: Record<string, unknown>) => {
  const info = resourceByName(resource);
  const obj: KObject = { metadata: { name: "x", namespace: "default" }, ...structuredClone(body) };
  applyDefaults(info, obj);
  return validateObject(info, obj);
};
const fields = (resource: string, body: Record<string, unknown>) => check(resource, body).map((c) => `${c.field} ${c.reason}`);

describe("ConfigMap", () => {
  it("checks keys", () => {
    expect(fields("configmaps", { data: { "a.conf": "x", "B_2-c": "y" } })).toEqual([]);
    expect(check("configmaps", { data: { "a b": "x" } })).toEqual([
      {
        reason: "FieldValueInvalid",
        field: "data[a b]",
        message:
          "Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
      },
    ]);
    expect(fields("configmaps", { data: { "..": "x" } })).toEqual(["data[..] FieldValueInvalid"]);
    expect(fields("configmaps", { binaryData: { "x/y": "AA==" } })).toEqual(["binaryData[x/y] FieldValueInvalid"]);
  });

  it("keeps data and binaryData keys apart, and binaryData in base64", () => {
    expect(fields("configmaps", { data: { a: "x" }, binaryData: { a: "AA==" } })).toEqual(["data[a] FieldValueInvalid", "binaryData[a] FieldValueInvalid"]);
    expect(fields("configmaps", { binaryData: { b: "%%%" } })).toEqual(["binaryData[b] FieldValueInvalid"]);
  });

  it("limits the total size to 1 MiB", () => {
    expect(fields("configmaps", { data: { a: "x".repeat(600 * 1024), b: "y".repeat(500 * 1024) } })).toEqual([" FieldValueTooLong"]);
    expect(fields("configmaps", { data: { a: "x".repeat(1024 * 1024) } })).toEqual([]);
    expect(check("configmaps", { data: { a: "é".repeat(600 * 1024) } })[0]).toEqual({
      reason: "FieldValueTooLong",
      field: "",
      message: "Too long: may not be more than 1048576 bytes",
    });
  });

  it("types data values as strings", () => {
    expect(fields("configmaps", { data: { a: 1 } })).toEqual(["data[a] FieldValueTypeInvalid"]);
  });
});

describe("Secret", () => {
  it("checks keys and base64 values without echoing them", () => {
    expect(fields("secrets", { data: { password: "c2VjcmV0" } })).toEqual([]);
    const [bad] = check("secrets", { data: { password: "secret!" } });
    expect(bad).toEqual({ reason: "FieldValueInvalid", field: "data[password]", message: "Invalid value: illegal base64 data" });
    expect(fields("secrets", { data: { "bad key": "AA==" } })).toEqual(["data[bad key] FieldValueInvalid"]);
    expect(fields("secrets", { stringData: { "bad key": "x" } })).toEqual(["stringData[bad key] FieldValueInvalid"]);
  });

  it("limits the decoded size to 1 MiB", () => {
    const b64 = "QUFB".repeat(300 * 1024); // 900 KiB decoded
    expect(fields("secrets", { data: { a: b64 } })).toEqual([]);
    expect(fields("secrets", { data: { a: b64, b: b64 } })).toEqual(["data FieldValueTooLong"]);
  });

  it("requires the keys each type needs", () => {
    expect(fields("secrets", { type: "kubernetes.io/tls", data: { "tls.crt": "" } })).toEqual(["data[tls.key] FieldValueRequired"]);
    expect(fields("secrets", { type: "kubernetes.io/dockerconfigjson", data: {} })).toEqual(["data[.dockerconfigjson] FieldValueRequired"]);
    expect(fields("secrets", { type: "kubernetes.io/basic-auth", data: {} })).toEqual([
      "data[username] FieldValueRequired",
      "data[password] FieldValueRequired",
    ]);
    expect(fields("secrets", { type: "kubernetes.io/basic-auth", data: { username: "YQ==" } })).toEqual([]);
    expect(fields("secrets", { type: "kubernetes.io/ssh-auth", data: {} })).toEqual(["data[ssh-privatekey] FieldValueRequired"]);
    expect(fields("secrets", { type: "kubernetes.io/service-account-token" })).toEqual([
      "metadata.annotations[kubernetes.io/service-account.name] FieldValueRequired",
    ]);
    expect(fields("secrets", { type: "example.com/custom", data: {} })).toEqual([]);
  });
});
