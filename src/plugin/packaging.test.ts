import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { perl, pluginDir, run } from './pluginTestKit';

const perlFiles = ['lib/AntispamPlugin.pm', 'hooks/antispam-hook', 'bin/csf-block-report', 'whm/antispam.cgi', 'cpanel/index.live.pl', 'cpanel/adminbin/SSO.pm', 'tools/make-icon.pl'];

describe('Perl files', () => {
  it.each(perlFiles.filter((f) => !f.endsWith('SSO.pm')))('%s compiles (perl -c)', async (file) => {
    const res = await perl('-c', [path.join(pluginDir, file)], { env: { PERL5LIB: path.join(pluginDir, 'lib') } });
    expect(res.stderr.trim()).toBe(`${path.join(pluginDir, file)} syntax OK`);
  });

  it('use only core Perl modules (plus our own AntispamPlugin and cPanel\'s own Cpanel::*)', async () => {
    const modules = new Set<string>();
    for (const file of perlFiles) {
      const src = fs.readFileSync(path.join(pluginDir, file), 'utf8');
      for (const m of src.matchAll(/^\s*(?:use|require)\s+([A-Z][\w:]*)/gm)) modules.add(m[1]!);
      for (const m of src.matchAll(/use parent qw\(\s*([\w:]+)\s*\)/g)) modules.add(m[1]!);
    }
    const external = [...modules].filter((m) => m !== 'AntispamPlugin' && !m.startsWith('Cpanel::'));
    expect(external.length).toBeGreaterThan(5);
    const res = await perl('-MModule::CoreList', ['-e', 'for (@ARGV) { print "$_\\n" if !Module::CoreList->first_release($_) }', ...external]);
    expect(res.stdout).toBe('');
  });

  it('the executables have a cPanel perl shebang and the executable bit', () => {
    for (const file of ['hooks/antispam-hook', 'bin/csf-block-report', 'whm/antispam.cgi', 'cpanel/index.live.pl']) {
      const full = path.join(pluginDir, file);
      expect(fs.readFileSync(full, 'utf8').split('\n')[0]).toBe('#!/usr/local/cpanel/3rdparty/bin/perl');
      expect(fs.statSync(full).mode & 0o111).not.toBe(0);
    }
  });
});

describe('install/uninstall scripts', () => {
  it.each(['install.sh', 'uninstall.sh', 'layout.sh'])('%s parses (bash -n) and uses strict mode', async (file) => {
    const res = await run('bash', ['-n', path.join(pluginDir, file)]);
    expect(res.code).toBe(0);
    if (file !== 'layout.sh') expect(fs.readFileSync(path.join(pluginDir, file), 'utf8')).toContain('set -euo pipefail');
  });

  it('--help answers without touching anything', async () => {
    const res = await run('bash', [path.join(pluginDir, 'install.sh'), '--help'], { env: { ANTISPAM_ROOT: '/nonexistent-root' } });
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/--app-url/);
  });
});

describe('WHM AppConfig (plugin/whm/antispam.conf)', () => {
  const conf = Object.fromEntries(
    fs
      .readFileSync(path.join(pluginDir, 'whm/antispam.conf'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  ) as Record<string, string>;

  it('has the keys register_appconfig needs and WHM\'s plugin list reads', () => {
    expect(conf).toMatchObject({
      name: 'antispam',
      service: 'whostmgr',
      user: 'root',
      url: '/cgi/addons/antispam/',
      displayname: 'Anti-Spam Policy',
      entryurl: 'addons/antispam/index.cgi',
      target: '_self',
      icon: 'antispam.png',
    });
    expect(conf.acls?.split(',').sort()).toEqual(['all', 'list-accts']);
    expect(conf.name).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('the icon is a valid 48x48 PNG', () => {
    const png = fs.readFileSync(path.join(pluginDir, 'whm/antispam.png'));
    expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
    let offset = 8;
    const chunks: string[] = [];
    const idat: Buffer[] = [];
    while (offset < png.length) {
      const len = png.readUInt32BE(offset);
      const type = png.subarray(offset + 4, offset + 8).toString('latin1');
      const data = png.subarray(offset + 8, offset + 8 + len);
      expect(png.readUInt32BE(offset + 8 + len), `${type} CRC`).toBe(zlib.crc32(png.subarray(offset + 4, offset + 8 + len)));
      if (type === 'IHDR') {
        expect(data.readUInt32BE(0)).toBe(48);
        expect(data.readUInt32BE(4)).toBe(48);
      }
      if (type === 'IDAT') idat.push(data);
      chunks.push(type);
      offset += 12 + len;
    }
    expect(chunks[0]).toBe('IHDR');
    expect(chunks.at(-1)).toBe('IEND');
    expect(zlib.inflateSync(Buffer.concat(idat)).length).toBe(48 * (1 + 48 * 4));
  });
});

describe('cPanel install.json (plugin/cpanel/install.json)', () => {
  const items = JSON.parse(fs.readFileSync(path.join(pluginDir, 'cpanel/install.json'), 'utf8')) as Array<Record<string, unknown>>;
  const idRe = /^[A-Za-z0-9_-]+$/;

  it('is an array of one group and one link item with the required keys', () => {
    expect(Array.isArray(items)).toBe(true);
    const groups = items.filter((i) => i.type === 'group');
    const links = items.filter((i) => i.type === 'link');
    expect(groups).toHaveLength(1);
    expect(links).toHaveLength(1);
    const group = groups[0]!;
    const link = links[0]!;
    for (const key of ['id', 'name', 'order']) expect(group).toHaveProperty(key);
    for (const key of ['type', 'id', 'name', 'group_id', 'order', 'icon']) expect(link).toHaveProperty(key);
    expect(group.id).toMatch(idRe);
    expect(link.id).toMatch(idRe);
    expect(link.group_id).toBe(group.id);
    expect(Number.isInteger(group.order)).toBe(true);
    expect(Number.isInteger(link.order)).toBe(true);
    expect(link.target).toMatch(idRe);
  });

  it('gates the link on the "antispam" feature (Feature Manager on)', () => {
    const link = items.find((i) => i.type === 'link')!;
    expect(link.feature).toBe('antispam');
    expect(link.featuremanager).not.toBe(0);
    expect(link.featuremanager).not.toBe(false);
  });

  it('points at the shipped page shim and icons (group icon must be SVG)', () => {
    const group = items.find((i) => i.type === 'group')!;
    const link = items.find((i) => i.type === 'link')!;
    expect(link.uri).toBe('antispam/index.live.pl');
    expect(fs.existsSync(path.join(pluginDir, 'cpanel/index.live.pl'))).toBe(true);
    expect(String(group.icon)).toMatch(/\.svg$/);
    for (const icon of [group.icon, link.icon]) {
      expect(String(icon)).toMatch(/\.(svg|png)$/);
      const svg = fs.readFileSync(path.join(pluginDir, 'cpanel', String(icon)), 'utf8');
      expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    }
  });
});
