#!/usr/bin/env node
import { doctor } from './doctor.js';

const cmd = process.argv[2] ?? 'help';
if (cmd === 'doctor') {
  const r = doctor();
  console.log(r.lines.join('\n'));
  console.log(r.ok ? 'doctor: everything warpforge needs is here' : 'doctor: see PROBLEM lines above');
  process.exitCode = r.ok ? 0 : 1;
} else {
  console.log('usage: warpforge doctor');
  process.exitCode = cmd === 'help' || cmd === '--help' ? 0 : 2;
}
