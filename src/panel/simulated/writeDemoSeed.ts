/** Regenerates demo-seed.json from the demo fleet: `npx tsx src/panel/simulated/writeDemoSeed.ts [file]`. */
import { demoSeedPath, writeDemoSeed } from './demoSeed';

const file = process.argv[2] ?? demoSeedPath;
writeDemoSeed(file);
process.stdout.write(`Wrote ${file}\n`);
