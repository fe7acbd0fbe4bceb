/** ConfigMap and Secret rules: keys, base64 values, the 1 MiB size limit, and the fields each Secret type needs. */
import { type Causes, key, OMIT } from "../causes";
import { isConfigMapKey } from "../names";
import { obj, str } from "./json";

/** The most data a ConfigMap or Secret may hold. */
export const MAX_DATA_SIZE = 1024 * 1024;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Bytes of a UTF-8 string. */
const utf8Length = (s: string): number => {
  let n = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return n;
};

/** Bytes a base64 string decodes to. */
const decodedLength = (b64: string): number => Math.floor((b64.length * 3) / 4) - (b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0);

export const validateConfigMap = (cm: Record<string, any>, c: Causes) => {
  const data = obj(cm.data);
  const binary = obj(cm.binaryData);
  let size = 0;
  for (const [k, v] of Object.entries(data)) {
    c.invalidEach(key("data", k), k, isConfigMapKey(k));
    if (k in binary) c.invalid(key("data", k), k, "duplicate of key present in binaryData");
    size += utf8Length(str(v));
  }
  for (const [k, v] of Object.entries(binary)) {
    c.invalidEach(key("binaryData", k), k, isConfigMapKey(k));
    if (k in data) c.invalid(key("binaryData", k), k, "duplicate of key present in data");
    if (typeof v === "string" && !BASE64.test(v)) c.invalid(key("binaryData", k), OMIT, "illegal base64 data");
    size += decodedLength(str(v));
  }
  if (size > MAX_DATA_SIZE) c.tooLong("", MAX_DATA_SIZE);
};

const requireKeys = (data: Record<string, unknown>, keys: string[], c: Causes) => {
  for (const k of keys) if (!(k in data)) c.required(key("data", k));
};

export const validateSecret = (secret: Record<string, any>, c: Causes) => {
  const data = obj(secret.data);
  let size = 0;
  for (const [k, v] of Object.entries(data)) {
    c.invalidEach(key("data", k), k, isConfigMapKey(k));
    if (typeof v === "string" && !BASE64.test(v)) c.invalid(key("data", k), OMIT, "illegal base64 data");
    size += decodedLength(str(v));
  }
  for (const [k, v] of Object.entries(obj(secret.stringData))) {
    c.invalidEach(key("stringData", k), k, isConfigMapKey(k));
    size += utf8Length(str(v));
  }
  if (size > MAX_DATA_SIZE) c.tooLong("data", MAX_DATA_SIZE);
  switch (secret.type) {
    case "kubernetes.io/service-account-token":
      if (!str(obj(obj(secret.metadata).annotations)["kubernetes.io/service-account.name"]))
        c.required("metadata.annotations[kubernetes.io/service-account.name]");
      break;
    case "kubernetes.io/dockercfg":
      requireKeys(data, [".dockercfg"], c);
      break;
    case "kubernetes.io/dockerconfigjson":
      requireKeys(data, [".dockerconfigjson"], c);
      break;
    case "kubernetes.io/basic-auth":
      if (!("username" in data) && !("password" in data)) requireKeys(data, ["username", "password"], c);
      break;
    case "kubernetes.io/ssh-auth":
      if (!str(data["ssh-privatekey"])) c.required(key("data", "ssh-privatekey"));
      break;
    case "kubernetes.io/tls":
      requireKeys(data, ["tls.crt", "tls.key"], c);
      break;
    default:
      break;
  }
};
