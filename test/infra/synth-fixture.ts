/** Synthesizes the bgmig app once per config (with cdk-nag and CDK's template validation on) for the infra tests. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { StackConfig } from '../../src/core/config.js';
import { names } from '../../src/core/naming.js';
import { buildApp } from '../../src/infra/app.js';
import type { BgmigStack } from '../../src/infra/stack.js';

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  DependsOn?: string | string[];
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs: Record<string, { Value: unknown; Description?: string }>;
}

export interface Synthesized {
  config: StackConfig;
  app: App;
  stack: BgmigStack;
  outdir: string;
  templateFile: string;
  json: CfnTemplate;
  template: Template;
  synthMs: number;
}

export function synthesize(config: StackConfig): Synthesized {
  delete process.env.CDK_VALIDATION; // the built-in template validation stays on in tests
  const outdir = mkdtempSync(path.join(tmpdir(), `bgmig-infra-${config.suffix}-`));
  const started = Date.now();
  const app = buildApp(config, { outdir, nag: true });
  app.synth();
  const synthMs = Date.now() - started;
  const stack = app.node.findChild(names(config.suffix).stack) as BgmigStack;
  const templateFile = path.join(outdir, `${names(config.suffix).stack}.template.json`);
  const json = JSON.parse(readFileSync(templateFile, 'utf8')) as CfnTemplate;
  return { config, app, stack, outdir, templateFile, json, template: Template.fromJSON(json as unknown as Record<string, unknown>), synthMs };
}

export function resourcesOfType(t: CfnTemplate, type: string): Array<[string, CfnResource]> {
  return Object.entries(t.Resources).filter(([, r]) => r.Type === type);
}

export function props(r: CfnResource): Record<string, unknown> {
  return r.Properties ?? {};
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export function actionsOf(s: Statement): string[] {
  return Array.isArray(s.Action) ? s.Action : [s.Action];
}

/** Every policy statement in the template: identity policies, role inline policies, key and bucket policies. */
export function allStatements(t: CfnTemplate): Array<{ id: string; type: string; statement: Statement }> {
  const out: Array<{ id: string; type: string; statement: Statement }> = [];
  for (const [id, r] of Object.entries(t.Resources)) {
    const p = props(r);
    const docs: unknown[] = [
      p.PolicyDocument,
      p.KeyPolicy,
      ...((p.Policies as Array<{ PolicyDocument: unknown }> | undefined) ?? []).map((x) => x.PolicyDocument),
    ];
    for (const d of docs) {
      if (!d || typeof d !== 'object') continue;
      for (const statement of (d as { Statement: Statement[] }).Statement) out.push({ id, type: r.Type, statement });
    }
  }
  return out;
}

/** The statements of the identity policies attached to one role (by logical id). */
export function roleStatements(t: CfnTemplate, roleLogicalId: string): Statement[] {
  const out: Statement[] = [];
  for (const [, r] of resourcesOfType(t, 'AWS::IAM::Policy')) {
    const p = props(r);
    const roles = (p.Roles as Array<{ Ref: string }> | undefined) ?? [];
    if (roles.some((x) => x.Ref === roleLogicalId)) out.push(...(p.PolicyDocument as { Statement: Statement[] }).Statement);
  }
  return out;
}

export function logicalIdOf(t: CfnTemplate, type: string, nameProp: string, name: string): string {
  const hit = resourcesOfType(t, type).find(([, r]) => props(r)[nameProp] === name);
  if (!hit) throw new Error(`no ${type} with ${nameProp}=${name}`);
  return hit[0];
}
