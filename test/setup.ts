import { isAvailable, unavailableReason } from '../lib/index.js';

// Printed once per test file so a CI log says plainly why GPU tests skipped.
if (!isAvailable()) console.log(`[warpforge] GPU tests skipped: ${unavailableReason()?.split('\n')[0]}`);
