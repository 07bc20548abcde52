import { config } from '../_shared/config.ts';
import { withDbCallTiming } from '../_shared/server-timing.ts';
import { handler } from './handler.ts';

config(); // a bad configuration stops the function at boot, with the reason, not one request at a time
Deno.serve(withDbCallTiming(handler));
