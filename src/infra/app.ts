/**
 * The embedded CDK app: one stack built from a StackConfig, optionally checked by cdk-nag (AwsSolutions and
 * NIST 800-53 rev 5) through CDK's validation-plugin API. Used by `bgmig synth`, deploy and diff (through
 * src/cli/cdk.ts) and by the infra tests.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { App, type IPolicyValidationContext, type IPolicyValidationPlugin, type PolicyValidationPluginReport, Validations } from 'aws-cdk-lib';
import { createRequire } from 'node:module';
import type { NagPack } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { StackConfig } from '../core/config.js';
import { names } from '../core/naming.js';
import { NAG_SUMMARY_FILE, type NagSummary } from './nag-summary.js';
import { BgmigStack } from './stack.js';

/**
 * Without this context CDK downgrades its own template-validation errors to warnings; bgmig wants an invalid
 * template to fail the synth (it is skipped altogether when CDK_VALIDATION=false).
 */
const STRICT_TEMPLATE_VALIDATION_CONTEXT = '@aws-cdk/core:validateAgainstDefaultRules';

const ACKNOWLEDGED_RULES = 'aws:cdk:acknowledged-rules';
/** Acknowledged ids are stored qualified, e.g. `Annotation::AwsSolutions-SMG4`. */
const NAG_ID = /^[^:]+::(AwsSolutions|NIST\.800\.53\.R5)-/;

function countAcknowledgements(root: IConstruct): number {
  let n = 0;
  for (const c of root.node.findAll()) {
    for (const entry of c.node.metadata) {
      if (entry.type !== ACKNOWLEDGED_RULES || !entry.data || typeof entry.data !== 'object') continue;
      // aws-cdk-lib acknowledges some of its own validator's rules (e.g. W3010 on explicit AZs): count only nag's.
      n += Object.keys(entry.data as object).filter((id) => NAG_ID.test(id)).length;
    }
  }
  return n;
}

/** Runs a nag pack unchanged and records its result in NAG_SUMMARY_FILE. */
class RecordedPack implements IPolicyValidationPlugin {
  readonly name: string;

  constructor(
    private readonly pack: NagPack,
    private readonly record: (name: string, violations: number) => void,
  ) {
    this.name = pack.name;
  }

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const report = this.pack.validate(context);
    this.record(this.name, report.violations.length);
    return report;
  }
}

export function buildApp(config: StackConfig, opts: { outdir: string; nag?: boolean }): App {
  const app = new App({
    outdir: opts.outdir,
    context: {
      [STRICT_TEMPLATE_VALIDATION_CONTEXT]: true,
      // Server access logging authorized by bucket policy instead of the legacy LogDeliveryWrite ACL.
      '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
    },
    // Deterministic templates: no CDK version/analytics metadata that changes between machines.
    analyticsReporting: false,
  });
  new BgmigStack(app, names(config.suffix).stack, { config });
  if (opts.nag) {
    const summary: NagSummary = { packs: [], acknowledgements: countAcknowledgements(app) };
    const record = (name: string, violations: number) => {
      summary.packs.push({ name, violations });
      mkdirSync(app.outdir, { recursive: true });
      writeFileSync(path.join(app.outdir, NAG_SUMMARY_FILE), `${JSON.stringify(summary, null, 2)}\n`);
    };
    // Loaded only when asked for: cdk-nag is a development dependency, and deploy/diff (nag off) must work
    // without it. buildApp is synchronous, hence require rather than import().
    const { AwsSolutionsChecks, NIST80053R5Checks } = createRequire(import.meta.url)('cdk-nag') as typeof import('cdk-nag');
    Validations.of(app).addPlugins(new RecordedPack(new AwsSolutionsChecks(app), record), new RecordedPack(new NIST80053R5Checks(app), record));
  }
  return app;
}
