import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { repoRoot } from '../support/repo-root';

/** The repository root: tests run from it (npm test), whatever directory they were compiled to. */
const root = repoRoot();
const read = (name: string): string => readFileSync(join(root, name), 'utf8');

interface Step {
  id?: string;
  name: string;
  entrypoint?: string;
  args?: string[];
}

/** Every argument a step passes to gcloud/docker, including those inside a bash script. */
function argsOf(step: Step): string[] {
  const args = step.args ?? [];
  if (step.entrypoint === 'bash') {
    return args.flatMap((a) => a.replace(/\\\n/g, ' ').split(/\s+/)).filter(Boolean);
  }
  return args;
}

function flag(args: string[], name: string): string | undefined {
  const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) {
    return undefined;
  }
  return args[i].includes('=') ? args[i].slice(name.length + 1) : (args[i + 1] ?? '');
}

/** gcloud's `^D^K=V D K=V` alternate-delimiter syntax, or plain comma lists. */
function keyValues(value: string): Map<string, string> {
  const m = /^\^(.)\^(.*)$/s.exec(value);
  const [sep, body] = m ? [m[1], m[2]] : [',', value];
  return new Map(body.split(sep).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

describe('cloudbuild.yaml', () => {
  const doc = parse(read('cloudbuild.yaml')) as { steps: Step[]; substitutions?: Record<string, string> };
  const image = '${_REGION}-docker.pkg.dev/$PROJECT_ID/${_REPOSITORY}/ecoflow-backend:$SHORT_SHA';

  it('parses and runs build → push → migrate → deploy in that order', () => {
    assert.ok(Array.isArray(doc.steps));
    assert.deepEqual(
      doc.steps.map((s) => s.id),
      ['build', 'push', 'migrate', 'deploy'],
    );
    const [build, push] = doc.steps;
    assert.equal(build.args?.[0], 'build');
    assert.ok(build.args?.includes(image), 'build tags the Artifact Registry image');
    assert.deepEqual(push.args, ['push', image]);
  });

  it('migrates in a separate Cloud Run job with the TypeORM CLI before deploying', () => {
    const migrate = doc.steps[2];
    const script = (migrate.args ?? []).join(' ');
    assert.match(script, /gcloud run jobs deploy ecoflow-migrate/);
    assert.match(script, /--command=node/);
    assert.match(script, /--args=dist\/database\/cli\.js,run/);
    assert.match(script, /gcloud run jobs execute ecoflow-migrate [^\n]*--wait/);
    const args = argsOf(migrate);
    assert.equal(flag(args, '--image'), image);
    assert.equal(flag(args, '--set-cloudsql-instances'), '$PROJECT_ID:${_REGION}:${_SQL_INSTANCE}');
    assert.match(flag(args, '--set-secrets') ?? '', /DB_PASSWORD=/);
  });

  it('deploys ecoflow-backend with every flag of issue 5', () => {
    const deploy = doc.steps[3];
    const args = argsOf(deploy);
    assert.equal(deploy.entrypoint, 'gcloud');
    assert.deepEqual(args.slice(0, 2), ['run', 'deploy']);
    assert.ok(['ecoflow-backend', '${_SERVICE}'].includes(args[2]));
    assert.equal(doc.substitutions?._SERVICE, 'ecoflow-backend');
    assert.equal(flag(args, '--image'), image);
    assert.equal(flag(args, '--add-cloudsql-instances'), '$PROJECT_ID:${_REGION}:${_SQL_INSTANCE}');
    const secrets = keyValues(flag(args, '--set-secrets') ?? '');
    for (const s of ['JWT_SECRET', 'GEMINI_API_KEY', 'DB_PASSWORD']) {
      assert.match(secrets.get(s) ?? '', /^[a-z0-9-]+:latest$/, `${s} comes from Secret Manager`);
    }
    const env = keyValues(flag(args, '--set-env-vars') ?? '');
    assert.equal(env.get('USE_CLOUD_SQL'), 'true');
    assert.equal(env.get('DB_HOST'), '/cloudsql/$PROJECT_ID:${_REGION}:${_SQL_INSTANCE}');
    assert.equal(env.get('MIGRATIONS_RUN'), 'false');
    for (const k of ['DB_NAME', 'DB_USER', 'CROWD_PREDICT_URL']) {
      assert.ok(env.get(k), `${k} is set`);
    }
    for (const s of ['JWT_SECRET', 'GEMINI_API_KEY', 'DB_PASSWORD']) {
      assert.equal(env.has(s), false, `${s} is never a plain env var`);
    }
    assert.equal(flag(args, '--concurrency'), '80');
    assert.equal(flag(args, '--cpu'), '2');
    assert.equal(flag(args, '--memory'), '1Gi');
    assert.equal(flag(args, '--min-instances'), '1');
    assert.equal(flag(args, '--max-instances'), '10');
    assert.equal(flag(args, '--timeout'), '3600', 'longer than SSE_MAX_DURATION (55 min)');
    assert.ok(args.includes('--no-cpu-throttling'), 'background delivery needs CPU outside requests');
    const startup = keyValues(flag(args, '--startup-probe') ?? '');
    const liveness = keyValues(flag(args, '--liveness-probe') ?? '');
    assert.equal(startup.get('httpGet.path'), '/health/ready');
    assert.equal(liveness.get('httpGet.path'), '/health/live');
  });

  it('hard-codes no project id: project, region and instance come from substitutions', () => {
    const text = read('cloudbuild.yaml');
    for (const sub of ['_REGION', '_SQL_INSTANCE', '_REPOSITORY']) {
      assert.ok(doc.substitutions?.[sub], `${sub} has a default`);
    }
    assert.doesNotMatch(text.replace(/^\s*#.*$/gm, ''), /projects\/[a-z]|PROJECT_ID:\s*[a-z]/);
    assert.equal(doc.substitutions?.PROJECT_ID, undefined);
  });
});

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: string[][] = [];
  for (const l of lines) {
    if (/^FROM\s/i.test(l)) {
      stages.push([]);
    }
    stages.at(-1)?.push(l);
  }
  const final = stages.at(-1) ?? [];

  it('is multi-stage and builds with npm ci and npm run build', () => {
    assert.ok(stages.length >= 2, 'at least a build and a runtime stage');
    const build = stages.slice(0, -1).flat();
    assert.ok(build.some((l) => /^RUN npm ci\b/.test(l)));
    assert.ok(build.some((l) => /^RUN npm run build\b/.test(l)));
  });

  it('runs production dependencies only, as a non-root user, with CMD node dist/main.js', () => {
    const fromStage = /^COPY --from=(\S+) \/app\/node_modules \.\/node_modules$/.exec(final.find((l) => l.includes('node_modules')) ?? '')?.[1];
    assert.ok(fromStage, 'the final stage copies node_modules from a dependencies stage');
    const deps = stages.find((st) => new RegExp(`^FROM \\S+ AS ${fromStage}$`, 'i').test(st[0])) ?? [];
    assert.ok(deps.some((l) => /^RUN npm ci\b.*--omit=dev/.test(l)), 'that stage installs with --omit=dev');
    assert.ok(!final.some((l) => /^RUN\b/.test(l)), 'npm never runs in the final stage: no npm cache, log or install-script leftover');
    assert.ok(final.some((l) => /^ENV\b.*NODE_ENV=production/.test(l)));
    const users = final.filter((l) => /^USER\s/i.test(l));
    assert.ok(users.length > 0, 'final stage sets USER');
    assert.doesNotMatch(users.at(-1)!, /^USER\s+(root|0)(:|\s|$)/i);
    const cmds = final.filter((l) => /^CMD\s/i.test(l));
    assert.equal(cmds.length, 1);
    assert.deepEqual(JSON.parse(cmds[0].slice(4)), ['node', 'dist/main.js']);
    assert.ok(!final.some((l) => /^ENTRYPOINT\s/i.test(l)), 'no entrypoint wrapping node');
  });

  it('runs no install script in any stage, whatever npm the base image bundles, and writes no npm log', () => {
    const installs = lines.filter((l) => /^RUN\b.*\bnpm (ci|install|i)\b/.test(l));
    assert.ok(installs.length >= 2);
    for (const l of installs) {
      assert.match(l, /--ignore-scripts/, l);
    }
    // a stage sees the ENV of the stages it is built FROM
    const envOf = (st: string[]): string => {
      const parent = /^FROM (\S+)/i.exec(st[0])?.[1];
      const base = stages.find((o) => o !== st && new RegExp(`^FROM \\S+ AS ${parent}$`, 'i').test(o[0]));
      return [...(base ? [envOf(base)] : []), ...st.filter((l) => /^ENV\s/.test(l))].join(' ');
    };
    for (const st of stages.filter((st) => st.some((l) => /\bnpm (ci|install|i)\b/.test(l)))) {
      const env = envOf(st);
      assert.match(env, /NPM_CONFIG_UPDATE_NOTIFIER=false/, 'no update notices in the build output');
      assert.match(env, /NPM_CONFIG_LOGS_MAX=0/, 'no debug log files');
    }
  });

  it('runs the Node.js LTS major that package.json engines allows and CI tests (scripts/node-lts.sh)', () => {
    const major = /ARG NODE_IMAGE=node:(\d+)-/.exec(text)?.[1];
    assert.ok(major && Number(major) % 2 === 0 && Number(major) >= 24, `node:${major} is an LTS line`);
    const pkg = JSON.parse(read('package.json')) as { engines: { node: string }; dependencies: Record<string, string>; devDependencies: Record<string, string>; optionalDependencies?: Record<string, string> };
    assert.match(pkg.engines.node, new RegExp(`(^|\\|\\|\\s)\\^${major}\\.`), `engines allows Node.js ${major}`);
    const lts = /^version="\$\{NODE_LTS_VERSION:-(\d+)\.\d+\.\d+\}"$/m.exec(read('scripts/node-lts.sh'))?.[1];
    assert.equal(lts, major, 'CI and the image smoke test use the same major');
    assert.match(read('.ci/run'), /scripts\/node-lts\.sh/, 'CI runs the suite on it');
    // production refuses the embedded database: PGlite is not a production dependency
    assert.equal(pkg.dependencies['@electric-sql/pglite'], undefined);
    assert.equal(pkg.optionalDependencies?.['@electric-sql/pglite'], undefined);
    assert.ok(pkg.devDependencies['@electric-sql/pglite']);
  });

  it('uses a glibc base image (sharp prebuilt binaries) and copies only the build output', () => {
    const froms = stages.map((s) => s[0]);
    const arg = /ARG NODE_IMAGE=(\S+)/.exec(text)?.[1] ?? '';
    for (const f of froms) {
      assert.doesNotMatch(f.includes('${NODE_IMAGE}') ? arg : f, /alpine/);
    }
    assert.match(arg, /^node:\d+-(bookworm|bullseye|trixie)(-slim)?$/);
    assert.ok(final.some((l) => /^COPY --from=\S+ \/app\/dist \.\/dist$/.test(l)));
    assert.ok(!final.some((l) => /^COPY (\.|src)\s/.test(l)), 'no sources in the runtime image');
  });

  it('.dockerignore keeps secrets, local data and dependencies out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const p of ['.git', '.env', '.data', 'node_modules', 'dist', 'build']) {
      assert.ok(ignored.includes(p), `${p} is ignored`);
    }
  });
});
