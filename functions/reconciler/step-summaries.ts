// What a `step.started` event says: the state's name and the first clause of its ASL Comment. The
// steps Lambda has no statemachines/ directory beside it, so the definitions are imported (and
// bundled) as JSON rather than read from disk.
import deploy from '../../statemachines/deploy.asl.json' with { type: 'json' };
import endpoint from '../../statemachines/endpoint.asl.json' with { type: 'json' };
import env from '../../statemachines/env.asl.json' with { type: 'json' };
import scale from '../../statemachines/scale.asl.json' with { type: 'json' };
import volume from '../../statemachines/volume.asl.json' with { type: 'json' };

// State names are unique across machines by design (the steps Lambda serves all of them from one table).
const comments: Record<string, string | undefined> = Object.fromEntries(
  [deploy, endpoint, env, scale, volume].flatMap((d) => Object.entries(d.States as Record<string, { Comment?: string }>).map(([name, s]) => [name, s.Comment])),
);

export function stepStartedMessage(state: string, comment = comments[state]): string {
  return `${state}: ${summary(comment)}`;
}

/** The first clause of a state's Comment: the whole Comment is for operators reading the ASL. */
export function summary(comment: string | undefined): string {
  if (!comment) return '';
  const first = comment.split(/(?<=[.;:])\s|\s\(/)[0].replace(/[.;:]$/, '');
  return first.length > 100 ? `${first.slice(0, 99)}…` : first;
}
