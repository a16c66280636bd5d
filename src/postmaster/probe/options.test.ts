import { describe, expect, it } from 'vitest';
import { probeDefaults, resolveProbeOptions } from './options';

describe('resolveProbeOptions', () => {
  it('applies the documented defaults', () => {
    const o = resolveProbeOptions({ heloName: 'CP1.Example.NET' });
    expect(o).toMatchObject({ ...probeDefaults, heloName: 'cp1.example.net', fallbackSender: 'postmaster@cp1.example.net', dnsServers: null, localAddress: null });
    expect(o.positiveTtlMs).toBe(24 * 3_600_000);
    expect(o.negativeTtlMs).toBe(2 * 3_600_000);
  });

  it('refuses settings that would put garbage on the wire', () => {
    expect(() => resolveProbeOptions({ heloName: 'localhost' })).toThrow(/heloName/);
    expect(() => resolveProbeOptions({ heloName: 'cp1.example.net\r\nDATA' })).toThrow(/heloName/);
    expect(() => resolveProbeOptions({ heloName: 'cp1.example.net', fallbackSender: 'a@b>\r\nDATA' })).toThrow(/fallbackSender/);
    expect(() => resolveProbeOptions({ heloName: 'cp1.example.net', localAddress: 'eth0' })).toThrow(/localAddress/);
    expect(() => resolveProbeOptions({ heloName: 'cp1.example.net', port: 0 })).toThrow(/port/);
    expect(() => resolveProbeOptions({ heloName: 'cp1.example.net', maxPerSession: 0 })).toThrow(/maxPerSession/);
    expect(() => resolveProbeOptions({ heloName: 'cp1.example.net', negativeTtlMs: -1 })).toThrow(/negativeTtlMs/);
  });
});
