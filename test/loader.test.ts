// The binary loader and the no-GPU behaviour: these run on every machine.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bindingCandidates, explainLoadFailure, packageRoot, tryLoad } from '../lib/binding.js';
import { devices, doctor, isAvailable, unavailableReason, WarpforgeError, DTYPES } from '../lib/index.js';
import { native } from '../lib/binding.js';

const root = packageRoot();

describe('binding loader', () => {
  it('looks in the override only when WARPFORGE_BINDING is set', () => {
    expect(bindingCandidates({ WARPFORGE_BINDING: '/x/warpforge.node' }, root)).toEqual(['/x/warpforge.node']);
    const c = bindingCandidates({}, root);
    expect(c[0]).toBe(path.join(root, 'build', 'Release', 'warpforge.node'));
    expect(c[1]).toBe(path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'warpforge.node'));
  });

  it('reports every candidate with its own failure', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wf-'));
    const junk = path.join(dir, 'warpforge.node');
    writeFileSync(junk, 'not an ELF file');
    const r = tryLoad([path.join(dir, 'missing.node'), junk]);
    expect(r.binding).toBeUndefined();
    expect(r.attempts.map((a) => a.path)).toEqual([path.join(dir, 'missing.node'), junk]);
    expect(r.attempts[0].error).toBe('not found');
    expect(r.attempts[1].error).not.toBe('not found');
    const text = explainLoadFailure(r.attempts);
    expect(text).toContain(junk);
    expect(text).toContain('npm run build');
  });

  it('loads the local build and agrees with lib/ on dtype ids', () => {
    const b = native();
    expect(b.napiVersion).toBe(9);
    for (const [name, info] of Object.entries(DTYPES)) expect(b.dtypeIds[name], name).toBe(info.id);
  });

  it('a broken override: devices() is [], the reason names the path, ops throw ERR_BINDING', () => {
    const script = `
      import { devices, unavailableReason, empty } from ${JSON.stringify(path.join(root, 'dist/lib/index.js'))};
      let code = 'none';
      try { empty([2], 'float32'); } catch (e) { code = e.code; }
      console.log(JSON.stringify({ devices: devices(), reason: unavailableReason(), code }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, WARPFORGE_BINDING: '/nonexistent/warpforge.node' },
      encoding: 'utf8',
    });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect(r.devices).toEqual([]);
    expect(r.reason).toContain('/nonexistent/warpforge.node');
    expect(r.code).toBe('ERR_NO_DEVICE');
  });
});

describe('device discovery', () => {
  it('never throws and is consistent with isAvailable()', () => {
    const list = devices();
    expect(Array.isArray(list)).toBe(true);
    if (!isAvailable()) {
      expect(typeof unavailableReason()).toBe('string');
    } else {
      expect(unavailableReason()).toBeUndefined();
      for (const d of list) {
        expect(d.name.length).toBeGreaterThan(0);
        expect(d.multiProcessorCount).toBeGreaterThan(0);
        expect(d.computeCapability).toBe(`${d.major}.${d.minor}`);
      }
    }
  });

  it('doctor reports the binary and each problem', () => {
    const r = doctor();
    expect(r.lines.join('\n')).toContain('binary:');
    expect(r.ok).toBe(r.lines.every((l) => !l.startsWith('PROBLEM')));
    if (!isAvailable()) expect(r.ok).toBe(false);
  });

  it.skipIf(isAvailable())('without a GPU, allocating throws ERR_NO_DEVICE (not a crash)', async () => {
    const { empty } = await import('../lib/index.js');
    expect(() => empty([4], 'float16')).toThrow(WarpforgeError);
    try {
      empty([4], 'float16');
    } catch (e) {
      expect((e as WarpforgeError).code).toBe('ERR_NO_DEVICE');
    }
  });
});
