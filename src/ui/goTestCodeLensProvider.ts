/** A "profile" code lens above each benchmark and test of a _test.go file. */
import * as vscode from 'vscode';
import { scanGoTestFuncs } from './goTestFuncs';

export class GoTestCodeLensProvider implements vscode.CodeLensProvider {
  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (!doc.fileName.endsWith('_test.go')) return [];
    return scanGoTestFuncs(doc.getText()).map(
      (f) =>
        new vscode.CodeLens(new vscode.Range(f.line0, 0, f.line0, 0), {
          title: 'profile',
          tooltip: `Go Perf Lens: run ${f.name} under a CPU recording and show its heat`,
          command: 'goPerfLens.profileGoTest',
          arguments: [doc.uri, f.kind, f.name],
        }),
    );
  }
}
