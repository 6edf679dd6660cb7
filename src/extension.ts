/**
 * Extension entry point. Activation is cheap: no tfjs here (training runs in dist/worker.js, a child
 * process); the Runs view lists folders lazily when it is first shown.
 */
import type * as vscode from 'vscode';
import { Controller } from './host/controller';

let controller: Controller | undefined;

export function activate(context: vscode.ExtensionContext): void {
  controller = new Controller(context);
  context.subscriptions.push(controller);
}

export async function deactivate(): Promise<void> {
  await controller?.shutdown();
  controller = undefined;
}
