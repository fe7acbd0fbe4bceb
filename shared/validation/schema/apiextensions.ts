/** apiextensions.k8s.io/v1: CustomResourceDefinition. */
import { boolean, gvk, int32, listOf, namedScalar, object, oneOf, opt, req, string } from "./dsl";
import { condition, ObjectMeta } from "./meta";

const P = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1";

/** A structural schema is recursive JSON Schema; it is kept as written and checked by shared/crd/validate.ts. */
export const JSONSchemaProps = namedScalar(
  `${P}.JSONSchemaProps`,
  "A JSON-Schema following Specification Draft 4 (http://json-schema.org/): the structural subset Kubernetes accepts (a type everywhere, no $ref).",
  "object",
  { type: "object", "x-kubernetes-preserve-unknown-fields": true },
);

export const CustomResourceDefinitionNames = object(`${P}.CustomResourceDefinitionNames`, "The names used to serve the custom resource.", {
  plural: req(string, "The plural name of the resource to serve; must match the name of the CRD (`<plural>.<group>`); lowercase."),
  singular: opt(string, "The singular name of the resource; lowercase. Defaults to the lowercased kind."),
  shortNames: opt(listOf(string), "Short names for the resource, as `kubectl get <shortname>` accepts them; lowercase."),
  kind: req(string, "The serialized kind of the resource; normally CamelCase and singular."),
  listKind: opt(string, "The serialized kind of the list for this resource. Defaults to `<kind>List`."),
  categories: opt(listOf(string), "Grouped resources this resource belongs to (e.g. 'all'), as `kubectl get <category>` uses them."),
});

export const CustomResourceColumnDefinition = object(`${P}.CustomResourceColumnDefinition`, "A column for server side printing (`kubectl get`).", {
  name: req(string, "A human readable name for the column."),
  type: req(
    oneOf(["integer", "number", "string", "boolean", "date"], { check: false }),
    "The OpenAPI type of the column: integer, number, string, boolean or date (printed as an age).",
  ),
  format: opt(string, "An optional OpenAPI type format for the column ('name' marks the primary identifier column)."),
  description: opt(string, "A human readable description of the column."),
  priority: opt(int32, "The column's importance: 0 is shown in standard view, greater values only with `-o wide`."),
  jsonPath: req(string, "A simple JSON path (with array notation) evaluated against each custom resource to produce the value of the column."),
});

export const CustomResourceSubresourceScale = object(`${P}.CustomResourceSubresourceScale`, "How to serve the scale subresource for a custom resource.", {
  specReplicasPath: req(string, "The JSON path inside the custom resource that corresponds to Scale `spec.replicas`; must be under `.spec`."),
  statusReplicasPath: req(string, "The JSON path inside the custom resource that corresponds to Scale `status.replicas`; must be under `.status`."),
  labelSelectorPath: opt(string, "The JSON path inside the custom resource that corresponds to Scale `status.selector` (a serialized label selector)."),
});

export const CustomResourceSubresourceStatus = namedScalar(
  `${P}.CustomResourceSubresourceStatus`,
  "Enables the status subresource: PUT/POST/PATCH to the main resource ignore status, /status changes only status, and metadata.generation counts other changes.",
  "object",
  { type: "object" },
);

export const CustomResourceSubresources = object(`${P}.CustomResourceSubresources`, "The status and scale subresources of a version.", {
  status: opt(CustomResourceSubresourceStatus, "Enables the status subresource."),
  scale: opt(CustomResourceSubresourceScale, "Enables the scale subresource."),
});

export const CustomResourceValidation = object(`${P}.CustomResourceValidation`, "A list of validation methods for custom resources.", {
  openAPIV3Schema: opt(JSONSchemaProps, "The OpenAPI v3 schema used for validation, pruning and defaulting."),
});

export const CustomResourceDefinitionVersion = object(`${P}.CustomResourceDefinitionVersion`, "One version of a custom resource.", {
  name: req(string, "The version name, e.g. 'v1', 'v2beta1'; served under /apis/<group>/<version>/."),
  served: req(boolean, "Whether this version is served by REST APIs."),
  storage: req(boolean, "Whether this version is used when persisting custom resources; exactly one version has storage=true."),
  deprecated: opt(boolean, "Whether this version is deprecated: requests get a warning header."),
  deprecationWarning: opt(string, "The warning returned to API clients when deprecated is true."),
  schema: opt(CustomResourceValidation, "The schema used for validation, pruning and defaulting of this version."),
  subresources: opt(CustomResourceSubresources, "The subresources this version serves."),
  additionalPrinterColumns: opt(
    listOf(CustomResourceColumnDefinition),
    "Additional columns returned in Table output (`kubectl get`); without them, a single Age column.",
  ),
});

export const CustomResourceConversion = object(`${P}.CustomResourceConversion`, "How to convert between versions of a custom resource.", {
  strategy: req(oneOf(["None", "Webhook"], { check: false }), "None (only apiVersion changes) or Webhook (not called here: versions are converted as None)."),
  webhook: opt(JSONSchemaProps, "How to call the conversion webhook; required when strategy is Webhook."),
});

export const CustomResourceDefinitionSpec = object(`${P}.CustomResourceDefinitionSpec`, "How a custom resource is served.", {
  group: req(string, "The API group of the custom resource, served under /apis/<group>/...; must contain a dot."),
  names: req(CustomResourceDefinitionNames, "The resource and kind names of the custom resource."),
  scope: req(oneOf(["Cluster", "Namespaced"], { check: false }), "Whether the custom resource is cluster-scoped (Cluster) or namespace-scoped (Namespaced)."),
  versions: req(listOf(CustomResourceDefinitionVersion), "The API versions of the custom resource, ordered by priority."),
  conversion: opt(CustomResourceConversion, "How to convert between versions (default: None)."),
  preserveUnknownFields: opt(boolean, "Deprecated; must be false in apiextensions.k8s.io/v1 (unknown fields are pruned)."),
});

export const CustomResourceDefinitionCondition = condition(`${P}.CustomResourceDefinitionCondition`, "custom resource definition", ["lastTransitionTime"]);

export const CustomResourceDefinitionStatus = object(`${P}.CustomResourceDefinitionStatus`, "The state of a CustomResourceDefinition.", {
  conditions: opt(listOf(CustomResourceDefinitionCondition), "NamesAccepted, Established (served) and Terminating."),
  acceptedNames: opt(CustomResourceDefinitionNames, "The names actually being served; they may differ from spec.names when those conflict."),
  storedVersions: opt(listOf(string), "Every version ever used as the storage version."),
});

export const CustomResourceDefinition = object(
  `${P}.CustomResourceDefinition`,
  "A resource to expose in the API server: its name must be `<spec.names.plural>.<spec.group>`.",
  {
    apiVersion: opt(string, "API version of the object: apiextensions.k8s.io/v1."),
    kind: opt(string, "Kind of the object: CustomResourceDefinition."),
    metadata: opt(ObjectMeta, "Standard object metadata."),
    spec: req(CustomResourceDefinitionSpec, "How the custom resource is served: group, names, scope and versions."),
    status: opt(CustomResourceDefinitionStatus, "The state of the CustomResourceDefinition."),
  },
  gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
);
