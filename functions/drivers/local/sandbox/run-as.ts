// `workloads.<w>.user` embedded: the uid and gid the command sees inside its sandbox. Names are
// looked up in this machine's /etc/passwd and /etc/group, which is what the sandbox's /etc is (as
// an image's own /etc/passwd is what Docker's USER resolves against).
import { readFileSync } from 'node:fs';
import { InvalidInputError } from '../../../core/errors.ts';

export interface RunAs {
  uid: number;
  gid: number;
}

interface Databases {
  passwd: string;
  group: string;
}

const readDatabases = (): Databases => ({ passwd: readOr('/etc/passwd'), group: readOr('/etc/group') });

function readOr(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** `postgres`, `999`, `999:999`, `app:staff` → numbers; a name this machine does not know is invalid input. */
export function resolveRunAs(user: string, workload: string, db: Databases = readDatabases()): RunAs {
  const [who, group] = user.split(':');
  const entry = (text: string, name: string) => text.split('\n').map((l) => l.split(':')).find((f) => f[0] === name);
  let uid: number;
  let gid: number | undefined;
  if (/^\d+$/.test(who)) uid = Number(who);
  else {
    const pw = entry(db.passwd, who);
    if (!pw) {
      throw new InvalidInputError('user-unknown', `workloads.${workload}.user: there is no user "${who}" in this machine's /etc/passwd, which the embedded sandbox uses; give a uid instead (e.g. user: "999:999") or install the package that creates the user`, {
        details: { field: `workloads.${workload}.user`, value: user },
      });
    }
    uid = Number(pw[2]);
    gid = Number(pw[3]);
  }
  if (group !== undefined) {
    if (/^\d+$/.test(group)) gid = Number(group);
    else {
      const gr = entry(db.group, group);
      if (!gr) {
        throw new InvalidInputError('group-unknown', `workloads.${workload}.user: there is no group "${group}" in this machine's /etc/group; give a gid instead (e.g. user: "${who}:999")`, {
          details: { field: `workloads.${workload}.user`, value: user },
        });
      }
      gid = Number(gr[2]);
    }
  }
  // A uid alone gets the group of the same number (Docker would give gid 0, root's group, which an
  // unprivileged server has no use for).
  return { uid, gid: gid ?? uid };
}
