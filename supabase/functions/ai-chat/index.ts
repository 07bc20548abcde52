import { withDbCallTiming } from '../_shared/server-timing.ts';
import { handler } from './handler.ts';

Deno.serve(withDbCallTiming(handler));
