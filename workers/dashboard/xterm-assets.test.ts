/** The terminal's vendored browser files are those of the installed @xterm packages (scripts/vendor-xterm.ts regenerates them). */
import { describe, expect, it } from "vitest";
import { served, XTERM_FILES } from "../../scripts/vendor-xterm";
import { XTERM_NAMES } from "./terminal";
import { XTERM_ASSETS } from "./xterm-assets.gen";

describe("xterm assets", () => {
  it("match node_modules (run `npx tsx scripts/vendor-xterm.ts` after upgrading @xterm/*)", () => {
    expect(Object.keys(XTERM_ASSETS).sort()).toEqual(Object.keys(XTERM_FILES).sort());
    // the names the dashboard serves them by, known before the (lazily loaded) files are
    expect([...XTERM_NAMES].sort()).toEqual(Object.keys(XTERM_ASSETS).sort());
    for (const [name, spec] of Object.entries(XTERM_FILES)) expect(XTERM_ASSETS[name] === served(spec), name).toBe(true);
    // ES modules the page imports by these names, with nothing else to fetch
    expect(XTERM_ASSETS["xterm.mjs"]).toMatch(/export\s*\{[^}]*as Terminal\s*\}/);
    expect(XTERM_ASSETS["addon-fit.mjs"]).toMatch(/export\s*\{[^}]*as FitAddon\s*\}/);
    for (const f of ["xterm.mjs", "addon-fit.mjs"]) expect(XTERM_ASSETS[f]).not.toMatch(/\bimport\s*[{"*]|sourceMappingURL/);
  });
});
