#!/bin/sh
# Starts one command in a sandbox of its own: new mount and PID namespaces (plus a user namespace
# when the platform is not root), a root made of read-only system dirs, the instance's release as
# a copy-on-write overlay, its volumes and secret files, a private /tmp, and nothing else of the
# host's files. sandbox.ts builds the argument list; the stages re-run this file:
#
#   launch.sh outer [--cgroup FILE]... [--userns] -- <inner args>
#       on the host: joins the instance's cgroups, then enters the namespaces (util-linux unshare)
#       and runs `launch.sh inner` as PID 1 there; dies with the platform (PR_SET_PDEATHSIG).
#   launch.sh inner ROOT SCRATCH SCRATCH_MIB (uid=UID[:AS_UID:AS_GID] | userns=UID:GID) [--app RELEASE DST]
#                   [--ro SRC DST]... [--rw SRC DST]... [--chdir DIR]
#                   -- NAME=VALUE... COMMAND [ARG]...
#       builds the root, pivots into it, drops every capability and becomes the init that runs the
#       command with exactly the given environment.
#   launch.sh exec [--cgroup FILE]... --target PID --chdir DIR (--uid UID | --userns-uid UID)
#                  [--as AS_UID:AS_GID] -- NAME=VALUE... COMMAND [ARG]...
#       runs a command (berth exec) inside the sandbox whose init is PID: its namespaces, its root,
#       its cgroups, as the same user as the instance.
#
# Why a shell script over util-linux rather than bubblewrap: util-linux (unshare, nsenter, setpriv,
# mount, pivot_root) is on every Debian and Ubuntu system, so the sandbox needs no package of its
# own; the steps are the ones bubblewrap takes (bubblewrap.c setup_newroot, pivot_root, umount2).
set -eu
# The platform keeps a umask of 077 for its own files; the sandbox's mount points must be
# traversable by the instance's uid, and an instance starts with the usual umask.
umask 022
IFS=' 	
'
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH

die() {
  echo "berth sandbox: $*" >&2
  exit 125
}

# Mount targets are made inside the new root; a symlink in a release must not point one outside.
inside() {
  resolved=$(readlink -f -- "$1") || die "cannot resolve $1"
  case "$resolved/" in
    "$ROOT"/*) ;;
    *) die "mount point $2 leaves the sandbox (it resolves to $resolved)" ;;
  esac
}

target_dir() {
  mkdir -p -- "$ROOT$1" || die "cannot create mount point $1"
  inside "$ROOT$1" "$1"
}

bind_ro() {
  mount --bind -- "$1" "$2" || die "cannot mount $1 (read-only)"
  mount -o remount,bind,ro,nosuid,nodev -- "$2" || die "cannot make $2 read-only"
}

bind_rw() {
  mount --bind -- "$1" "$2" || die "cannot mount $1"
  mount -o remount,bind,nosuid,nodev -- "$2" || die "cannot remount $2"
}

stage_outer() {
  userns=
  while [ $# -gt 0 ]; do
    case "$1" in
      --cgroup) echo $$ >"$2" || die "cannot join cgroup $2"; shift 2 ;;
      --userns) userns='unshare --user --map-root-user --'; shift ;;
      --) shift; break ;;
      *) die "unknown outer option $1" ;;
    esac
  done
  # The parent-death signal is set after the user namespace exists: entering one changes the
  # process's credentials, which clears it. --kill-child: the namespace's init gets SIGKILL when
  # unshare dies, and the kernel then kills every process left in the PID namespace (setsid or
  # double-forked ones too).
  # shellcheck disable=SC2086 # $userns is zero or four words
  exec $userns setpriv --pdeathsig KILL -- unshare --mount --pid --ipc --uts --fork --kill-child --propagation private -- /bin/sh "$0" inner "$@"
}

stage_inner() {
  [ $# -ge 4 ] || die "inner needs ROOT SCRATCH SCRATCH_MIB USER"
  ROOT=$1 SCRATCH=$2 SCRATCH_MIB=$3 CHDIR=/ DROP_UID= USERNS_UID= AS_UID= AS_GID=
  case "$4" in
    uid=*:*:*) spec=${4#uid=}; DROP_UID=${spec%%:*}; spec=${spec#*:}; AS_UID=${spec%%:*}; AS_GID=${spec#*:} ;;
    uid=*) DROP_UID=${4#uid=} ;;
    userns=*:*) spec=${4#userns=}; USERNS_UID=${spec%%:*}; AS_GID=${spec#*:} ;;
    *) die "USER is uid=N[:U:G] or userns=U:G, not $4" ;;
  esac
  shift 4

  mount -t tmpfs -o mode=0755,nosuid,nodev,size=1m berth-root "$ROOT"
  ROOT=$(readlink -f -- "$ROOT")
  mount -t tmpfs -o mode=0755,nosuid,nodev,size="${SCRATCH_MIB}m" berth-scratch "$SCRATCH"
  mkdir "$SCRATCH/upper" "$SCRATCH/work" "$SCRATCH/lower" "$SCRATCH/tmp" "$SCRATCH/run" "$SCRATCH/shm"
  chmod 1777 "$SCRATCH/tmp" "$SCRATCH/shm"
  # The instance owns what it may write: the overlay's upper layer (the root of /app) and /run.
  [ -z "$DROP_UID" ] || chown "$DROP_UID:$DROP_UID" "$SCRATCH/upper" "$SCRATCH/run"

  for dir in usr bin sbin lib lib32 lib64 libx32 etc; do
    if [ -L "/$dir" ]; then
      ln -s -- "$(readlink "/$dir")" "$ROOT/$dir"
    elif [ -d "/$dir" ]; then
      mkdir "$ROOT/$dir"
      mount --rbind -- "/$dir" "$ROOT/$dir"
      mount -o remount,bind,ro,nosuid,nodev -- "$ROOT/$dir"
    fi
  done

  # Programs look their uid up (getpwuid): initdb, ssh, many a shell prompt. The sandbox's uid has
  # no entry on the host, so the instance's /etc/passwd and /etc/group are the host's plus one.
  # The uid it sees is the workload's `user` when one is set (AS_UID, or USERNS_UID without root).
  run_uid=${AS_UID:-${DROP_UID:-$USERNS_UID}}
  run_gid=${AS_GID:-$run_uid}
  for db in passwd group; do
    id=$run_uid
    [ "$db" = group ] && id=$run_gid
    if [ -f "/etc/$db" ] && ! grep -q "^[^:]*:[^:]*:$id:" "/etc/$db"; then
      cat "/etc/$db" >"$SCRATCH/$db"
      if [ "$db" = passwd ]; then
        echo "app:x:$run_uid:$run_gid:Berth instance:/tmp:/bin/sh" >>"$SCRATCH/$db"
      else
        echo "app:x:$run_gid:" >>"$SCRATCH/$db"
      fi
      bind_ro "$SCRATCH/$db" "$ROOT/etc/$db"
    fi
  done

  mkdir "$ROOT/proc" "$ROOT/dev" "$ROOT/tmp" "$ROOT/run"
  mount -t proc -o nosuid,nodev,noexec proc "$ROOT/proc"
  mount --bind -- "$SCRATCH/tmp" "$ROOT/tmp"
  mount --bind -- "$SCRATCH/run" "$ROOT/run"
  mount -t tmpfs -o mode=0755,nosuid,size=64k berth-dev "$ROOT/dev"
  for node in null zero full random urandom tty; do
    touch "$ROOT/dev/$node"
    mount --bind -- "/dev/$node" "$ROOT/dev/$node"
  done
  mkdir "$ROOT/dev/pts" "$ROOT/dev/shm"
  mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$ROOT/dev/pts"
  ln -s pts/ptmx "$ROOT/dev/ptmx"
  mount --bind -- "$SCRATCH/shm" "$ROOT/dev/shm"
  ln -s /proc/self/fd "$ROOT/dev/fd"
  ln -s /proc/self/fd/0 "$ROOT/dev/stdin"
  ln -s /proc/self/fd/1 "$ROOT/dev/stdout"
  ln -s /proc/self/fd/2 "$ROOT/dev/stderr"

  while [ $# -gt 0 ]; do
    case "$1" in
      --chdir) CHDIR=$2; shift 2 ;;
      --app)
        # The release is the overlay's read-only lower layer; writes land in the scratch tmpfs and
        # vanish with the instance, as a container's do. Relative option paths (resolved from the
        # cwd) keep the data dir's name, whatever characters it has, out of the option string.
        target_dir "$3"
        bind_ro "$2" "$SCRATCH/lower"
        (cd "$SCRATCH" && mount -t overlay -o lowerdir=lower,upperdir=upper,workdir=work,nosuid,nodev berth-app "$ROOT$3") || die "cannot mount the release at $3"
        shift 3 ;;
      --ro) target_dir "$3"; bind_ro "$2" "$ROOT$3"; shift 3 ;;
      --rw) target_dir "$3"; bind_rw "$2" "$ROOT$3"; shift 3 ;;
      --) shift; break ;;
      *) die "unknown inner option $1" ;;
    esac
  done

  cd "$ROOT"
  mkdir .old
  pivot_root . .old
  cd /
  umount -l /.old
  rmdir /.old
  mount -o remount,bind,ro,nosuid,nodev /
  cd -- "$CHDIR" || die "cannot enter $CHDIR"

  # PID 1 of the namespace: passes the stop signals on, reaps orphans (dash's wait reaps any
  # child), and exits with the command's status, which ends the namespace and all left in it.
  init='"$@" & c=$!
trap "kill -TERM $c 2>/dev/null || :" TERM
trap "kill -INT $c 2>/dev/null || :" INT
trap "kill -HUP $c 2>/dev/null || :" HUP
while :; do
  if wait $c; then rc=0; else rc=$?; fi
  kill -0 $c 2>/dev/null || exit $rc
done'
  # env --default-signal: an asynchronous list of a non-interactive shell ignores SIGINT and
  # SIGQUIT; the command gets the default dispositions a container's process starts with.
  # The init keeps its credentials and only the command drops them: the kernel clears a process's
  # parent-death signal when its credentials change, and the init's (unshare --kill-child) is what
  # ends the sandbox when the platform dies. The command, another uid without capabilities, can
  # neither signal nor ptrace it, nor read its /proc entries.
  # A workload `user` is a user namespace nested under the env's uid, mapping that one uid (and
  # gid) to the env's: the command is `postgres` to itself and owns its volumes, and is still the
  # env's uid, without capabilities, to the host.
  if [ -n "$DROP_UID" ]; then
    as=
    [ -z "$AS_UID" ] || as="unshare --user --map-user=$AS_UID --map-group=$AS_GID --"
    # shellcheck disable=SC2086 # $as is zero or five words
    exec /bin/sh -c "$init" init setpriv --reuid="$DROP_UID" --regid="$DROP_UID" --clear-groups --no-new-privs --bounding-set=-all --inh-caps=-all -- \
      $as env --default-signal -i -- "$@"
  fi
  # Without root on the host the command gets a user namespace nested in this one, where it is an
  # ordinary uid (database servers refuse to run as root). Writing that namespace's uid map takes
  # capabilities this init must keep (Linux 6.x limits a new namespace's to its creator's bounding
  # set); they are worth nothing outside the sandbox's own namespaces, and the command, in the
  # nested namespace, can neither ptrace the init nor read its /proc entries.
  exec /bin/sh -c "$init" init unshare --user --map-user="$USERNS_UID" --map-group="$AS_GID" -- \
    setpriv --no-new-privs -- env --default-signal -i -- "$@"
}

stage_exec() {
  target= drop_uid= userns_uid= chdir=/ as_uid= as_gid=
  while [ $# -gt 0 ]; do
    case "$1" in
      --as) as_uid=${2%%:*}; as_gid=${2#*:}; shift 2 ;;
      --cgroup) echo $$ >"$2" || die "cannot join cgroup $2"; shift 2 ;;
      --target) target=$2; shift 2 ;;
      --uid) drop_uid=$2; shift 2 ;;
      --userns-uid) userns_uid=$2; shift 2 ;;
      --chdir) chdir=$2; shift 2 ;;
      --) shift; break ;;
      *) die "unknown exec option $1" ;;
    esac
  done
  [ -n "$target" ] || die "--target is required"
  if [ -n "$drop_uid" ]; then
    as=
    [ -z "$as_uid" ] || as="unshare --user --map-user=$as_uid --map-group=$as_gid --"
    # shellcheck disable=SC2086 # $as is zero or five words
    exec nsenter --target "$target" --mount --pid --ipc --uts --root --wd -- \
      setpriv --reuid="$drop_uid" --regid="$drop_uid" --clear-groups --no-new-privs --bounding-set=-all --inh-caps=-all -- \
      $as env --default-signal -i -- "$@"
  fi
  uid=${as_uid:-$userns_uid}
  exec nsenter --target "$target" --user --preserve-credentials --mount --pid --ipc --uts --root --wd -- \
    unshare --user --map-user="$uid" --map-group="${as_gid:-$uid}" -- setpriv --no-new-privs -- env --default-signal -i -- "$@"
}

case "${1-}" in
  outer) shift; stage_outer "$@" ;;
  exec) shift; stage_exec "$@" ;;
  inner) shift; stage_inner "$@" ;;
  *) die "usage: launch.sh outer|inner|exec ..." ;;
esac
