/**
 * What a synth leaves in the assembly directory about its checks, readable without loading aws-cdk-lib:
 * NAG_SUMMARY_FILE (written by src/infra/app.ts when the cdk-nag packs ran) and CDK's validation-report.json
 * (written when any validation plugin reported a finding).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const NAG_SUMMARY_FILE = 'nag-summary.json';
export const VALIDATION_REPORT_FILE = 'validation-report.json';

export interface NagSummary {
  packs: Array<{ name: string; violations: number }>;
  /** (construct, rule id) acknowledgements declared in the app, each with its reason. */
  acknowledgements: number;
}

export interface ValidationViolation {
  plugin: string;
  rule: string;
  description: string;
  constructs: string[];
}

interface ReportFile {
  pluginReports?: Array<{
    pluginName: string;
    violations?: Array<{ ruleName: string; description: string; violatingConstructs?: Array<{ constructPath?: string }> }>;
  }>;
}

export function readNagSummary(outdir: string): NagSummary | undefined {
  try {
    return JSON.parse(readFileSync(path.join(outdir, NAG_SUMMARY_FILE), 'utf8')) as NagSummary;
  } catch {
    return undefined;
  }
}

/** Every finding in validation-report.json that fails the synth (nag packs and CDK's template validator). */
export function readViolations(outdir: string): ValidationViolation[] {
  let parsed: ReportFile;
  try {
    parsed = JSON.parse(readFileSync(path.join(outdir, VALIDATION_REPORT_FILE), 'utf8')) as ReportFile;
  } catch {
    return [];
  }
  return (parsed.pluginReports ?? []).flatMap((p) =>
    (p.violations ?? []).map((v) => ({
      plugin: p.pluginName,
      rule: v.ruleName,
      description: v.description,
      constructs: (v.violatingConstructs ?? []).map((c) => c.constructPath ?? '?'),
    })),
  );
}
