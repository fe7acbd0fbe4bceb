/**
 * The RBAC authorizer's view of Roles, ClusterRoles and their bindings: read once and
 * kept per isolate (per server on Node); each request that RBAC decides checks, with
 * one indexed read of the change log (Store.latestRevisionOf), that none of the four
 * resources changed since, and reads them again only when one did. Admins (system:masters)
 * and nodes never get here.
 */
import type { Store } from "../../store/store";
import { RbacView } from "./rules";

export const RBAC_RESOURCES = ["roles", "clusterroles", "rolebindings", "clusterrolebindings"] as const;

export class RbacCache {
  /** the view last read (a value shared across requests; reads in flight are not shared: on Workers each request waits only on its own I/O) */
  private current?: RbacView;
  /** an RBAC object was written through this process since the view was last checked */
  private dirty = true;

  /**
   * `soleWriter`: every write of the database goes through this process (`npm start`), so
   * the view is current until this process writes an RBAC object (changed()), and a
   * request costs no read at all; otherwise (Workers: other isolates write too) each
   * check reads the newest change of the four resources.
   */
  constructor(readonly soleWriter = false) {}

  /** This process wrote a Role, ClusterRole or binding. */
  changed(): void {
    this.dirty = true;
  }

  async view(store: Store): Promise<RbacView> {
    if (this.soleWriter && this.current && !this.dirty) return this.current;
    this.dirty = false;
    const latest = await store.latestRevisionOf([...RBAC_RESOURCES]);
    if (this.current && this.current.revision === latest) return this.current;
    return this.load(store, latest);
  }

  private async load(store: Store, latest: number): Promise<RbacView> {
    const [roles, clusterroles, rolebindings, clusterrolebindings] = await Promise.all(RBAC_RESOURCES.map((r) => store.list(r, {})));
    const view = new RbacView(latest, {
      roles: roles.items,
      clusterroles: clusterroles.items,
      rolebindings: rolebindings.items,
      clusterrolebindings: clusterrolebindings.items,
    });
    this.current = view;
    return view;
  }
}
