/**
 * An inference thread (node:worker_threads) of the inference process (src/worker/inference/pool): its own
 * tfjs backend and generators, rendering its share of each request's samples. Bundled as
 * dist/inferenceWorkerThread.js next to dist/inference.js.
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { runInferenceThread, type ThreadPort } from './inference/pool/thread';

if (!parentPort) throw new Error('inferenceWorkerThread must run in a worker thread');
runInferenceThread(parentPort as unknown as ThreadPort, threadId, (workerData as { index: number }).index);
