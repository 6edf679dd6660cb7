/**
 * A data-parallel training worker thread (node:worker_threads), started by ParallelTrainer
 * (src/core/training/parallel): one replica of the trainer on its own tfjs backend. Bundled as
 * dist/trainWorkerThread.js next to the training process and the CLI.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runReplica, type ReplicaPort } from '../core/training/parallel/replica';
import type { ReplicaInit } from '../core/training/parallel/protocol';

if (!parentPort) throw new Error('trainWorkerThread must run in a worker thread');
void runReplica(parentPort as unknown as ReplicaPort, workerData as ReplicaInit);
