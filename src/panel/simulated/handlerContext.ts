import type { SimState } from './simState';

/** What a handler sees of one request. */
export interface HandlerContext {
  state: SimState;
  /** The authenticated WHM user: "root" sees everything, a reseller only the accounts it owns. */
  caller: string;
  params: URLSearchParams;
  /** Unix time, seconds. */
  now: number;
  /** Base URL of the simulator (login URLs point back at it). */
  baseUrl: string;
  /** UAPI functions answering status 0 (knob failFunctions). */
  failUapi: (fn: string) => boolean;
  /** Knob: Email::list_forwarders refuses to run without a domain. */
  forwardersRequireDomain: boolean;
}

export interface HandlerResult {
  data?: Record<string, unknown>;
  reason?: string;
  /** metadata.output.raw (suspension logs). */
  output?: string;
}

/** A refusal: answered as metadata.result 0 with this reason. */
export class SimFailure extends Error {}

export type WhmHandler = (ctx: HandlerContext) => HandlerResult;

export function required(params: URLSearchParams, name: string): string {
  const v = params.get(name)?.trim();
  if (!v) throw new SimFailure(`The parameter “${name}” is required.`);
  return v;
}
