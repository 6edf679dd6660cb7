// Runs inside desktop VS Code (extension host). Thin on purpose: activation, commands, Runs view.
const assert = require('node:assert/strict');
const vscode = require('vscode');

exports.run = async function run() {
  const ext = vscode.extensions.all.find((e) => e.packageJSON.name === 'gan-inspector');
  assert.ok(ext, 'GAN Inspector extension is loaded');
  await vscode.commands.executeCommand('ganInspector.refreshRuns');
  assert.ok(ext.isActive, 'activated by its command');
  const commands = await vscode.commands.getCommands(true);
  for (const c of ext.packageJSON.contributes.commands.map((c) => c.command)) {
    assert.ok(commands.includes(c), `command ${c} is registered`);
  }
  console.log(`test:vscode: ${ext.packageJSON.contributes.commands.length} commands registered`);
};
