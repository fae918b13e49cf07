import { describe, expect, it } from 'vitest';
import { mergeProvenance, provenanceFromEnv } from './provenance';

const actions = {
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'acme/appliance',
  GITHUB_SHA: 'a'.repeat(40),
  GITHUB_REF: 'refs/tags/v1.2.3',
  GITHUB_RUN_ID: '123456',
  GITHUB_RUN_ATTEMPT: '2',
};

describe('provenanceFromEnv', () => {
  it("reads the recipe and the run from GitHub Actions' variables", () => {
    expect(provenanceFromEnv(actions)).toEqual({
      recipe: { repository: 'https://github.com/acme/appliance', commit: 'a'.repeat(40), ref: 'refs/tags/v1.2.3' },
      workflowRun: { id: '123456', attempt: '2', url: 'https://github.com/acme/appliance/actions/runs/123456' },
    });
  });

  it('is empty outside CI', () => {
    expect(provenanceFromEnv({})).toEqual({});
  });

  it('uses github.com when GITHUB_SERVER_URL is unset, and another server when it is set', () => {
    expect(provenanceFromEnv({ GITHUB_REPOSITORY: 'acme/appliance' })).toEqual({ recipe: { repository: 'https://github.com/acme/appliance' } });
    expect(provenanceFromEnv({ GITHUB_SERVER_URL: 'https://ghe.example.com', GITHUB_REPOSITORY: 'acme/appliance', GITHUB_RUN_ID: '7' })).toEqual({
      recipe: { repository: 'https://ghe.example.com/acme/appliance' },
      workflowRun: { id: '7', url: 'https://ghe.example.com/acme/appliance/actions/runs/7' },
    });
  });

  it('leaves out what is not set, and the run URL without a repository', () => {
    expect(provenanceFromEnv({ GITHUB_SHA: 'b'.repeat(40), GITHUB_RUN_ID: '9' })).toEqual({
      recipe: { commit: 'b'.repeat(40) },
      workflowRun: { id: '9' },
    });
  });

  it('treats empty variables as unset', () => {
    expect(provenanceFromEnv({ GITHUB_REPOSITORY: '', GITHUB_SHA: '', GITHUB_REF: '', GITHUB_RUN_ID: '', GITHUB_RUN_ATTEMPT: '1' })).toEqual({});
  });

  it('ignores the attempt without a run id', () => {
    expect(provenanceFromEnv({ GITHUB_RUN_ATTEMPT: '3' })).toEqual({});
  });
});

describe('mergeProvenance', () => {
  const base = provenanceFromEnv(actions);

  it('lets explicit values win, field by field', () => {
    expect(mergeProvenance(base, { recipe: { repository: base.recipe!.repository, commit: 'c'.repeat(40) } })).toEqual({
      recipe: { repository: base.recipe!.repository, commit: 'c'.repeat(40), ref: 'refs/tags/v1.2.3' },
      workflowRun: base.workflowRun,
    });
  });

  it("drops the workflow's own commit and ref when another recipe repository is named", () => {
    expect(mergeProvenance(base, { recipe: { repository: 'https://example.com/recipe.git' } })).toEqual({
      recipe: { repository: 'https://example.com/recipe.git' },
      workflowRun: base.workflowRun,
    });
  });

  it('an empty or slash-ended GITHUB_SERVER_URL makes no broken URL', () => {
    for (const server of ['', 'https://github.com/', 'https://github.com//']) {
      expect(provenanceFromEnv({ GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: 'acme/app', GITHUB_RUN_ID: '7' })).toEqual({
        recipe: { repository: 'https://github.com/acme/app' },
        workflowRun: { id: '7', url: 'https://github.com/acme/app/actions/runs/7' },
      });
    }
  });

  it('keeps the base where the override is undefined or empty', () => {
    expect(mergeProvenance(base, { recipe: { repository: undefined, commit: '', ref: 'refs/heads/main' }, workflowRun: { id: '' } })).toEqual({
      recipe: { repository: 'https://github.com/acme/appliance', commit: 'a'.repeat(40), ref: 'refs/heads/main' },
      workflowRun: base.workflowRun,
    });
  });

  it('uses the override alone when the environment gives nothing', () => {
    expect(mergeProvenance({}, { recipe: { ref: 'refs/heads/main' }, workflowRun: { url: 'https://ci.example/1' } })).toEqual({
      recipe: { ref: 'refs/heads/main' },
      workflowRun: { url: 'https://ci.example/1' },
    });
  });

  it('leaves out sections with nothing in them', () => {
    expect(mergeProvenance({}, { recipe: { repository: undefined, commit: '' } })).toEqual({});
  });

  it('does not change its arguments', () => {
    const before = structuredClone(base);
    mergeProvenance(base, { recipe: { ref: 'x' } });
    expect(base).toEqual(before);
  });
});
