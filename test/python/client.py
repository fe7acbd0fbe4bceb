"""
Drives a Kubeflare API server with Kubernetes' official Python client (Debian's
python3-kubernetes) and prints one JSON object per step on stdout, for
test/python-client.test.ts to check. Usage: client.py URL TOKEN CA_FILE NAMESPACE
"""
import json
import sys
import threading
import time

from kubernetes import client, watch
from kubernetes.client.rest import ApiException

url, token, ca_file, ns = sys.argv[1:5]
conf = client.Configuration()
conf.host = url
conf.api_key = {"authorization": "Bearer " + token}
conf.ssl_ca_cert = ca_file
api = client.ApiClient(conf)
core = client.CoreV1Api(api)
apps = client.AppsV1Api(api)


def out(step, **kw):
    print(json.dumps({"step": step, **kw}), flush=True)


def api_error(f):
    try:
        f()
    except ApiException as e:
        return {"status": e.status, "body": json.loads(e.body)}
    return None


core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
# the default ServiceAccount appears with the namespace (the service account controller)
sa = None
for _ in range(100):
    try:
        sa = core.read_namespaced_service_account("default", ns)
        break
    except ApiException as e:
        if e.status != 404:
            raise
        time.sleep(0.1)
out("serviceaccount", name=sa.metadata.name if sa else None)

cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py-cm", labels={"app": "py"}), data={"a": "1"})
made = core.create_namespaced_config_map(ns, cm)
out("create", name=made.metadata.name, uid=made.metadata.uid, rv=made.metadata.resource_version)
out("conflict", **api_error(lambda: core.create_namespaced_config_map(ns, cm)))

listed = core.list_namespaced_config_map(ns, label_selector="app=py")
out("list", names=[i.metadata.name for i in listed.items], rv=listed.metadata.resource_version)

# a watch from the list's resourceVersion sees a create and a patch made meanwhile
seen = []


def watcher():
    w = watch.Watch()
    for ev in w.stream(core.list_namespaced_config_map, ns, resource_version=listed.metadata.resource_version, timeout_seconds=10):
        seen.append({"type": ev["type"], "name": ev["object"].metadata.name, "data": ev["object"].data})
        if len(seen) >= 2:
            w.stop()


t = threading.Thread(target=watcher)
t.start()
time.sleep(1)
core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py-cm2"), data={"b": "2"}))
patched = core.patch_namespaced_config_map("py-cm", ns, {"data": {"a": "2"}})
t.join(15)
out("watch", events=seen)
out("patch", data=patched.data)

pod = client.V1Pod(
    metadata=client.V1ObjectMeta(name="py-pod"),
    spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox", command=["sleep", "3600"])]),
)
made_pod = core.create_namespaced_pod(ns, pod)
out("pod", serviceAccountName=made_pod.spec.service_account_name, phase=made_pod.status.phase)

dep = client.V1Deployment(
    metadata=client.V1ObjectMeta(name="py-dep"),
    spec=client.V1DeploymentSpec(
        replicas=2,
        selector=client.V1LabelSelector(match_labels={"app": "py-dep"}),
        template=client.V1PodTemplateSpec(
            metadata=client.V1ObjectMeta(labels={"app": "py-dep"}),
            spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")]),
        ),
    ),
)
apps.create_namespaced_deployment(ns, dep)
scaled = apps.patch_namespaced_deployment_scale("py-dep", ns, {"spec": {"replicas": 3}})
out("scale", replicas=scaled.spec.replicas)

core.delete_namespaced_config_map("py-cm", ns, body=client.V1DeleteOptions(propagation_policy="Foreground"))
# foreground deletion: the garbage collector removes the object once it has no dependents
gone = None
for _ in range(100):
    gone = api_error(lambda: core.read_namespaced_config_map("py-cm", ns))
    if gone:
        break
    time.sleep(0.1)
out("gone", **(gone or {}))
core.delete_namespaced_pod("py-pod", ns, grace_period_seconds=0)
out("done")
