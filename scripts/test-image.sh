#!/usr/bin/env bash
# Build the local test image (no registry is reachable): Debian's busybox-static as a
# rootfs, imported into Docker as kubeflare/busybox:test and into containerd's
# "kubeflare" namespace. Needs busybox-static, docker and (optionally) ctr.
set -euo pipefail
IMAGE=${1:-kubeflare/busybox:test}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/www" "$root/proc" "$root/sys" "$root/dev"
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
# socat (Debian's, with the libraries it links) for UDP servers: busybox's nc has no -u
if command -v socat >/dev/null; then
  cp "$(command -v socat)" "$root/bin/socat"
  for lib in $(ldd "$(command -v socat)" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
fi
echo "root:x:0:0:root:/:/bin/sh" > "$root/etc/passwd"
echo "root:x:0:" > "$root/etc/group"
tar -C "$root" -c . | docker import --change 'ENV PATH=/bin' --change 'CMD ["sh"]' - "$IMAGE" >/dev/null
# a pod sandbox ("pause") image from the same rootfs: sleeps until told to stop
PAUSE=${PAUSE_IMAGE:-kubeflare/pause:test}
tar -C "$root" -c . | docker import --change 'ENV PATH=/bin' --change 'CMD ["sh", "-c", "trap \"exit 0\" TERM INT; while :; do sleep 3600 & wait; done"]' - "$PAUSE" >/dev/null
echo "docker: $IMAGE $PAUSE"
if command -v ctr >/dev/null && ctr version >/dev/null 2>&1; then
  docker save "$IMAGE" "$PAUSE" | ctr -n kubeflare images import - >/dev/null
  echo "containerd (namespace kubeflare): $IMAGE $PAUSE"
fi
