"""
Custom resources through Kubernetes' official Python client (Debian's
python3-kubernetes): a CRD made with ApiextensionsV1Api, then CustomObjectsApi
create/list/get, merge and JSON patches, the 422 of an invalid object, delete. One
JSON object per step on stdout, for test/crd-clients.test.ts.
Usage: crd.py URL TOKEN CA_FILE NAMESPACE CRD_JSON
"""
import json
import sys
import time

from kubernetes import client
from kubernetes.client.rest import ApiException

url, token, ca_file, ns, crd_json = sys.argv[1:6]
conf = client.Configuration()
conf.host = url
conf.api_key = {"authorization": "Bearer " + token}
conf.ssl_ca_cert = ca_file
api = client.ApiClient(conf)
core = client.CoreV1Api(api)
ext = client.ApiextensionsV1Api(api)
custom = client.CustomObjectsApi(api)


def out(step, **kw):
    print(json.dumps({"step": step, **kw}), flush=True)


core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
# the raw body: the client's models would drop fields they don't know
crd = ext.api_client.call_api(
    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", "POST",
    body=json.loads(crd_json), response_type="object", auth_settings=["BearerToken"], _return_http_data_only=True,
)
established = False
for _ in range(100):
    got = ext.read_custom_resource_definition("widgets.example.com")
    if any(c.type == "Established" and c.status == "True" for c in (got.status.conditions or [])):
        established = True
        break
    time.sleep(0.1)
out("crd", established=established, names=got.status.accepted_names.kind)

G, V, P = "example.com", "v1", "widgets"
body = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "py-w"}, "spec": {"size": "small"}}
made = None
for _ in range(100):
    try:
        made = custom.create_namespaced_custom_object(G, V, ns, P, body)
        break
    except ApiException as e:
        if e.status != 404:
            raise
        time.sleep(0.1)
out("create", name=made["metadata"]["name"], spec=made["spec"])
listed = custom.list_namespaced_custom_object(G, V, ns, P)
out("list", kind=listed["kind"], names=[o["metadata"]["name"] for o in listed["items"]])
merged = custom.patch_namespaced_custom_object(G, V, ns, P, "py-w", {"spec": {"size": "large"}})
out("merge", spec=merged["spec"])
# this client sends every custom object patch as a merge patch: a JSON patch goes through call_api
jsonp = api.call_api(
    f"/apis/{G}/{V}/namespaces/{ns}/{P}/py-w", "PATCH",
    body=[{"op": "replace", "path": "/spec/replicas", "value": 4}],
    header_params={"Content-Type": "application/json-patch+json", "Accept": "application/json"},
    response_type="object", auth_settings=["BearerToken"], _return_http_data_only=True,
)
out("jsonpatch", spec=jsonp["spec"])
try:
    custom.create_namespaced_custom_object(G, V, ns, P, {**body, "metadata": {"name": "py-bad"}, "spec": {"size": 7}})
    out("invalid", status=None)
except ApiException as e:
    out("invalid", status=e.status, body=json.loads(e.body))
custom.delete_namespaced_custom_object(G, V, ns, P, "py-w")
try:
    custom.get_namespaced_custom_object(G, V, ns, P, "py-w")
    out("gone", status=200)
except ApiException as e:
    out("gone", status=e.status)
ext.delete_custom_resource_definition("widgets.example.com")
out("done", ok=True)
