// The flat command table: one entry per full command, in the order `berth --help` lists them.
import type { CommandDefinition } from '../core/command.ts';
import appsCreate from './apps/create.ts';
import appsList from './apps/list.ts';
import { completionCommand } from './completion.ts';
import configList from './config/list.ts';
import costTagsActivate from './cost-tags/activate.ts';
import configSet from './config/set.ts';
import configUnset from './config/unset.ts';
import deploy from './deploy.ts';
import endpointsCreate from './endpoints/create.ts';
import endpointsDelete from './endpoints/delete.ts';
import endpointsList from './endpoints/list.ts';
import endpointsShow from './endpoints/show.ts';
import envsCreate from './envs/create.ts';
import envsDestroy from './envs/destroy.ts';
import envsList from './envs/list.ts';
import events from './events.ts';
import exec from './exec.ts';
import init from './init.ts';
import login from './login.ts';
import logs from './logs.ts';
import orgsCreate from './orgs/create.ts';
import orgsList from './orgs/list.ts';
import projectsCreate from './projects/create.ts';
import projectsList from './projects/list.ts';
import releases from './releases.ts';
import releasesShow from './releases/show.ts';
import rollback from './rollback.ts';
import scaleCount from './scale/count.ts';
import scaleVm from './scale/vm.ts';
import secretsImport from './secrets/import.ts';
import secretsList from './secrets/list.ts';
import secretsSet from './secrets/set.ts';
import status from './status.ts';
import volumesCreate from './volumes/create.ts';
import volumesDelete from './volumes/delete.ts';
import volumesList from './volumes/list.ts';
import volumesResize from './volumes/resize.ts';
import volumesShow from './volumes/show.ts';
import volumesSnapshot from './volumes/snapshot.ts';
import volumesSnapshots from './volumes/snapshots.ts';
import wait from './wait.ts';

export const COMMANDS: CommandDefinition[] = [
  init,
  login,
  orgsCreate,
  orgsList,
  projectsCreate,
  projectsList,
  appsCreate,
  appsList,
  envsCreate,
  envsList,
  configSet,
  configUnset,
  configList,
  secretsSet,
  secretsImport,
  secretsList,
  deploy,
  wait,
  status,
  events,
  logs,
  exec,
  releases,
  releasesShow,
  rollback,
  scaleCount,
  scaleVm,
  endpointsList,
  endpointsShow,
  endpointsCreate,
  endpointsDelete,
  volumesList,
  volumesShow,
  volumesCreate,
  volumesResize,
  volumesSnapshot,
  volumesSnapshots,
  volumesDelete,
  envsDestroy,
  costTagsActivate,
  // Generated from this very table, so it can never offer a command that does not exist.
  completionCommand(() => COMMANDS),
];
