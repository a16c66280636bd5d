import crypto from 'node:crypto';
import type { ServerService } from '../panel/serverService';
import { buildDemoSeed } from '../panel/simulated/demoSeed';
import { startSimulatedWhm, type SimulatedWhm } from '../panel/simulated/server';

export interface EmbeddedPanel {
  servers: SimulatedWhm[];
  close(): Promise<void>;
}

/**
 * The embedded default's panel: one simulated WHM server per demo server, on loopback ports chosen
 * at start, reached over HTTP like real servers. Their state lives in memory and starts from the
 * demo seed at every start; the app learns it through the ordinary account sync.
 */
export async function startEmbeddedPanel(servers: ServerService): Promise<EmbeddedPanel> {
  const seed = buildDemoSeed();
  const started: SimulatedWhm[] = [];
  try {
    for (const s of seed.servers) {
      const token = crypto.randomBytes(24).toString('hex');
      const sim = await startSimulatedWhm({ seed, server: s.name, token });
      started.push(sim);
      await servers.register(s.name, { url: sim.url, user: 'root', token, source: 'simulated', kind: s.kind ?? 'shared' });
      // The demo server's address doubles as its outbound mail IP, so complaints about it attribute by source IP.
      await servers.setMailIps(s.name, [s.ip]);
    }
  } catch (err) {
    await Promise.all(started.map((sim) => sim.close()));
    throw err;
  }
  return { servers: started, close: () => Promise.all(started.map((sim) => sim.close())).then(() => undefined) };
}
