/**
 * The contract between the SMTP probe layer and the rest of the postmaster feature.
 * The probe answers one question per domain: what did the domain's mail server say at RCPT TO for
 * postmaster@domain? It never sends DATA, and it never calls anything "missing" without a definite
 * 5xx answer to that RCPT.
 */

export type SmtpResult = 'accepted' | 'missing' | 'policy_block' | 'temporary' | 'unknown';

export type MxKind = 'mx' | 'a_fallback' | 'null_mx' | 'no_domain' | 'dns_error';

export interface MxHost {
  host: string;
  priority: number;
}

export interface MxAnswer {
  kind: MxKind;
  /** Sorted by preference. For `a_fallback`, the domain itself (after CNAMEs) with priority 0. */
  hosts: MxHost[];
  error?: string;
}

export interface DialogueEntry {
  /** Milliseconds since the first line of this address's first session. */
  at: number;
  dir: 'C' | 'S' | 'note';
  line: string;
}

export interface ProbeResult {
  domain: string; // lowercased
  address: string; // postmaster@domain
  mx: MxAnswer;
  /** 'no_mail' for a null MX, a domain that does not exist, or one with neither MX nor A/AAAA. */
  result: SmtpResult | 'no_mail';
  /** Last SMTP reply code for the RCPT (or greeting/connection stage when it never got that far). */
  code: number | null;
  enhancedCode: string | null; // e.g. "5.1.1"
  /** The server's reply text (without code) or the error, one line. */
  message: string;
  /** The MX host the result is about: the one that answered, or the one whose failure is reported. */
  mxHost: string | null;
  /** null when not tested (the address was not accepted, the test was inconclusive, or it is disabled). */
  catchAll: boolean | null;
  dialogue: DialogueEntry[];
  fromCache: boolean;
  checkedAt: Date;
  /** The SMTP stage the result comes from (added field): 'rcpt' only for a real answer to RCPT TO. */
  stage: ProbeStage | null;
}

export type ProbeStage = 'dns' | 'connect' | 'greeting' | 'helo' | 'tls' | 'mail' | 'rcpt' | 'rset';

export interface ProbeOptions {
  /** DNS servers as "ip" or "ip:port"; default: the system's. */
  dnsServers?: string[];
  /** SMTP port; default 25. */
  port?: number;
  /** Our EHLO/HELO name: the server's FQDN. Also the domain of the fallback sender. */
  heloName: string;
  /** MAIL FROM used once when the null sender is refused; default postmaster@<heloName>. */
  fallbackSender?: string;
  /** Local address to connect from (e.g. the mail server's own IP); default: the OS's choice. */
  localAddress?: string;
  /** Default 10 s. */
  connectTimeoutMs?: number;
  /** Wait for each reply; default 30 s (RFC 5321 allows 5 min, a timeout here only means "unknown"). */
  commandTimeoutMs?: number;
  /** Addresses carried by one session to one MX host; default 20. */
  maxPerSession?: number;
  /** Concurrent SMTP sessions over all hosts; default 10. */
  globalConcurrency?: number;
  /** Probe a random local part in a separate session when postmaster@ is accepted; default true. */
  catchAllCheck?: boolean;
  /** Cache time of `accepted`; default 24 h. */
  positiveTtlMs?: number;
  /** Cache time of `missing` and `policy_block`; default 2 h. */
  negativeTtlMs?: number;

  // Added options (all optional, with defaults):
  /** Cache time of `temporary` and `unknown`; default 0 = not cached (the caller retries with backoff). */
  temporaryTtlMs?: number;
  /** Bound on one whole MX resolution (CNAMEs, fallback, host addresses); default 10 s. */
  dnsTimeoutMs?: number;
  /** MX answers cached in memory: positive default 5 min, negative (NXDOMAIN, null MX, no records) 1 min. */
  mxCacheTtlMs?: number;
  mxNegativeCacheTtlMs?: number;
  /** Concurrent DNS resolutions during one call; default 20. */
  dnsConcurrency?: number;
  /** Host addresses tried per address before giving up (like Exim's hosts_max_try); default 5. */
  maxHostsTried?: number;
  /** Upgrade with STARTTLS when offered (certificate not verified, as MTAs do opportunistically); default false. */
  startTls?: boolean;
}
