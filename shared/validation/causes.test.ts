import { describe, expect, it } from "vitest";
import { Causes, child, goValue, index, key, OMIT } from "./causes";

describe("goValue", () => {
  it("prints values the way Go field errors do", () => {
    expect(goValue("x")).toBe('"x"');
    expect(goValue(70000)).toBe("70000");
    expect(goValue(true)).toBe("true");
    expect(goValue(null)).toBe("null");
    expect(goValue(undefined)).toBe("null");
    expect(goValue({ b: "2", a: "1" })).toBe('map[string]string{"a":"1", "b":"2"}');
    expect(goValue({})).toBe("map[string]string{}");
    expect(goValue(["a", "b"])).toBe('[]string{"a", "b"}');
    expect(goValue({ port: 80 })).toBe('{"port":80}');
  });
});

describe("Causes", () => {
  it("words each kind of field error like kube-apiserver", () => {
    const c = new Causes();
    c.required("spec.containers");
    c.required("metadata.name", "name or generateName is required");
    c.invalid("spec.replicas", -1, "must be greater than or equal to 0");
    c.notSupported("spec.restartPolicy", "Sometimes", ["Always", "OnFailure", "Never"]);
    c.duplicate("spec.containers[1].name", "c");
    c.notFound("spec.containers[0].volumeMounts[0].name", "data");
    c.forbidden("spec.template.spec.ephemeralContainers", "ephemeral containers not allowed in pod template");
    c.tooLong("metadata.annotations", 262144);
    c.tooMany("endpoints", 1001, 1000);
    c.typeInvalid("spec.containers", "string", 'spec.containers in body must be of type array: "string"');
    c.invalid("data[k]", OMIT, "illegal base64 data");
    expect(c.list).toEqual([
      { reason: "FieldValueRequired", field: "spec.containers", message: "Required value" },
      { reason: "FieldValueRequired", field: "metadata.name", message: "Required value: name or generateName is required" },
      { reason: "FieldValueInvalid", field: "spec.replicas", message: "Invalid value: -1: must be greater than or equal to 0" },
      {
        reason: "FieldValueNotSupported",
        field: "spec.restartPolicy",
        message: 'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
      },
      { reason: "FieldValueDuplicate", field: "spec.containers[1].name", message: 'Duplicate value: "c"' },
      { reason: "FieldValueNotFound", field: "spec.containers[0].volumeMounts[0].name", message: 'Not found: "data"' },
      {
        reason: "FieldValueForbidden",
        field: "spec.template.spec.ephemeralContainers",
        message: "Forbidden: ephemeral containers not allowed in pod template",
      },
      { reason: "FieldValueTooLong", field: "metadata.annotations", message: "Too long: may not be more than 262144 bytes" },
      { reason: "FieldValueTooMany", field: "endpoints", message: "Too many: 1001: must have at most 1000 items" },
      {
        reason: "FieldValueTypeInvalid",
        field: "spec.containers",
        message: 'Invalid value: "string": spec.containers in body must be of type array: "string"',
      },
      { reason: "FieldValueInvalid", field: "data[k]", message: "Invalid value: illegal base64 data" },
    ]);
  });

  it("reports one cause per message", () => {
    const c = new Causes();
    c.invalidEach("metadata.labels", "k", ["one", "two"]);
    c.invalidEach("metadata.labels", "k", []);
    expect(c.list.map((x) => x.message)).toEqual(['Invalid value: "k": one', 'Invalid value: "k": two']);
  });

  it("builds field paths like field.Path", () => {
    expect(child("", "spec")).toBe("spec");
    expect(child("spec", "containers")).toBe("spec.containers");
    expect(index("spec.containers", 2)).toBe("spec.containers[2]");
    expect(key("spec.containers[0].resources.limits", "cpu")).toBe("spec.containers[0].resources.limits[cpu]");
  });
});
