import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import dnsPacket from 'dns-packet';

/**
 * A real DNS server for tests (UDP on 127.0.0.1, random port) serving a zone given as data, so code
 * using node:dns `Resolver.setServers(['127.0.0.1:PORT'])` is tested over the wire, with the answers
 * (NODATA, NXDOMAIN, SERVFAIL, silence) c-ares really sees.
 *
 * It answers like a recursive resolver by default: a CNAME is followed inside the zone and the
 * target's records are added to the answer. `chaseCnames: false` answers like an authority whose
 * target lies elsewhere (the CNAME alone), which makes the client follow the chain itself.
 */
export interface DnsNameRecords {
  /** `exchange: '.'` (or '') with preference 0 is a null MX (RFC 7505). */
  MX?: Array<{ preference: number; exchange: string }>;
  A?: string[];
  AAAA?: string[];
  CNAME?: string;
  /** 'servfail' answers every query for the name with SERVFAIL; 'timeout' never answers. */
  fault?: 'servfail' | 'timeout';
}

/** Names (any case, trailing dot optional) → records. A name absent from the zone is NXDOMAIN. */
export type DnsZone = Record<string, DnsNameRecords>;

export interface DnsServerOptions {
  chaseCnames?: boolean;
}

export interface DnsQueryLog {
  name: string;
  type: string;
}

export interface TestDnsServer {
  /** "127.0.0.1:PORT", ready for `Resolver.setServers([address])`. */
  address: string;
  /** Replaces the records of one name; `undefined` removes the name (it becomes NXDOMAIN). */
  setRecords(name: string, records: DnsNameRecords | undefined): void;
  /** Every question received, in order (lowercased names), so tests can count lookups. */
  queries: DnsQueryLog[];
  close(): Promise<void>;
}

const TTL = 60;
const MAX_CHASE = 8;

function normalise(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

type Answer = dnsPacket.Answer;

function recordsOf(name: string, type: string, records: DnsNameRecords): Answer[] {
  switch (type) {
    case 'MX':
      return (records.MX ?? []).map((mx) => ({
        type: 'MX',
        name,
        ttl: TTL,
        // dns-packet encodes '.' and '' alike as the root name: the null MX target.
        data: { preference: mx.preference, exchange: mx.exchange === '.' ? '' : mx.exchange },
      }));
    case 'A':
      return (records.A ?? []).map((ip) => ({ type: 'A', name, ttl: TTL, data: ip }));
    case 'AAAA':
      return (records.AAAA ?? []).map((ip) => ({ type: 'AAAA', name, ttl: TTL, data: ip }));
    case 'CNAME':
      return records.CNAME ? [{ type: 'CNAME', name, ttl: TTL, data: records.CNAME }] : [];
    default:
      return [];
  }
}

type Resolution = { rcode: number; answers: Answer[] } | 'silent';

const NOERROR = 0;
const SERVFAIL = 2;
const NXDOMAIN = 3;

function resolve(zone: Map<string, DnsNameRecords>, qname: string, qtype: string, chase: boolean): Resolution {
  const answers: Answer[] = [];
  let name = qname;
  for (let depth = 0; depth <= MAX_CHASE; depth++) {
    const records = zone.get(normalise(name));
    // A dangling CNAME is NXDOMAIN with the chain in the answer, as recursive resolvers say it.
    if (!records) return { rcode: NXDOMAIN, answers };
    if (records.fault === 'timeout') return 'silent';
    if (records.fault === 'servfail') return { rcode: SERVFAIL, answers: [] };
    if (records.CNAME && qtype !== 'CNAME') {
      answers.push(...recordsOf(name, 'CNAME', records));
      if (!chase) return { rcode: NOERROR, answers };
      name = records.CNAME;
      continue;
    }
    answers.push(...recordsOf(name, qtype, records));
    return { rcode: NOERROR, answers };
  }
  return { rcode: SERVFAIL, answers: [] };
}

export async function startDnsServer(zone: DnsZone, options: DnsServerOptions = {}): Promise<TestDnsServer> {
  const records = new Map<string, DnsNameRecords>();
  for (const [name, value] of Object.entries(zone)) records.set(normalise(name), value);
  const chase = options.chaseCnames ?? true;
  const queries: DnsQueryLog[] = [];
  const socket = dgram.createSocket('udp4');

  socket.on('message', (message, remote) => {
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return; // not DNS: a real server drops garbage too
    }
    const question = query.questions?.[0];
    if (!question) return;
    queries.push({ name: normalise(question.name), type: question.type });
    const resolution = resolve(records, question.name, question.type, chase);
    if (resolution === 'silent') return;
    const response = dnsPacket.encode({
      type: 'response',
      id: query.id,
      // RD echoed, RA set (we act as a recursive resolver), rcode in the low four bits.
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | resolution.rcode,
      questions: [question],
      answers: resolution.answers,
    });
    socket.send(response, remote.port, remote.address);
  });

  await new Promise<void>((resolveBind, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolveBind();
    });
  });
  const { port } = socket.address() as AddressInfo;

  return {
    address: `127.0.0.1:${port}`,
    setRecords(name, value) {
      if (value === undefined) records.delete(normalise(name));
      else records.set(normalise(name), value);
    },
    queries,
    close: () => new Promise<void>((done) => socket.close(() => done())),
  };
}
