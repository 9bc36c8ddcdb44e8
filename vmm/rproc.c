// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rproc: the class processes one mpvmm spawns for its own VM (-object remote-process,
 * object-add).  Spawns the class binary with a control socketpair end as fd 3,
 * negotiates QMP on it (rproc_qmp.c), and watches every child through a pidfd on a
 * thread of its own, so a process that dies is reaped and logged once, with its exit
 * status or signal and the devices it took down, while the VM runs on.  A process is
 * never shared between VMs: each mpvmm spawns its own.  Devices are added and removed
 * in rproc_dev.c; the QMP commands are in rproc_cmd.c.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmm/rproc_priv.h"

#define RPROC_STOP_MS 2000 /* SIGTERM, then SIGKILL */

static void rproc_free(struct rproc *p)
{
	rqmp_close(p->qmp);
	if (p->pidfd >= 0)
		close(p->pidfd);
	g_ptr_array_free(p->devices, TRUE);
	json_object_put(p->sandbox);
	g_free(p->id);
	g_free(p->cls);
	g_free(p->binary);
	g_free(p);
}

struct rproc *rproc_find(struct rprocs *ps, const char *id)
{
	for (unsigned i = 0; i < ps->list->len; i++) {
		struct rproc *p = g_ptr_array_index(ps->list, i);

		if (!strcmp(p->id, id))
			return p;
	}
	return NULL;
}

/* "killed by SIGSYS" / "exited with status 1". */
char *rproc_health_text(const struct rproc *p)
{
	const char *sig;

	if (p->health == RPROC_RUNNING)
		return g_strdup("running");
	if (p->health == RPROC_EXITED)
		return g_strdup_printf("exited with status %d", p->code);
	sig = sigabbrev_np(p->code);
	return sig ? g_strdup_printf("killed by SIG%s", sig)
		   : g_strdup_printf("killed by signal %d", p->code);
}

/* The child has been reaped with wait status `status`: record it, say it once. */
static void rproc_reaped(struct rproc *p, int status)
{
	g_autofree char *what = NULL;
	g_autofree char *devs = NULL;

	p->health = WIFSIGNALED(status) ? RPROC_KILLED : RPROC_EXITED;
	p->code = WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status);
	what = rproc_health_text(p);
	if (p->stopping) {
		g_info("remote-process %s (pid %d) %s", p->id, p->pid, what);
		return;
	}
	g_ptr_array_add(p->devices, NULL);
	devs = g_strjoinv(", ", (char **)p->devices->pdata);
	g_ptr_array_remove_index(p->devices, p->devices->len - 1);
	if (p->devices->len)
		g_warning("remote-process %s (pid %d) %s; devices %s failed", p->id, p->pid, what,
			  devs);
	else
		g_warning("remote-process %s (pid %d) %s; it hosted no devices", p->id, p->pid,
			  what);
}

/* Reap p if it has ended (lock held).  true when reaped now or before. */
static bool rproc_try_reap(struct rproc *p)
{
	int status;
	pid_t r;

	if (p->health != RPROC_RUNNING)
		return true;
	r = waitpid(p->pid, &status, WNOHANG);
	if (r != p->pid)
		return false;
	rproc_reaped(p, status);
	return true;
}

/* The watcher: poll every live child's pidfd and the wake-up eventfd. */
static void *rproc_watch(void *opaque)
{
	struct rprocs *ps = opaque;
	g_autofree struct pollfd *pfd = NULL;

	for (;;) {
		unsigned n = 1;

		g_mutex_lock(&ps->lock);
		if (ps->stop) {
			g_mutex_unlock(&ps->lock);
			return NULL;
		}
		pfd = g_renew(struct pollfd, pfd, ps->list->len + 1);
		pfd[0] = (struct pollfd){.fd = ps->wake_fd, .events = POLLIN};
		for (unsigned i = 0; i < ps->list->len; i++) {
			struct rproc *p = g_ptr_array_index(ps->list, i);

			if (p->health == RPROC_RUNNING)
				pfd[n++] = (struct pollfd){.fd = p->pidfd, .events = POLLIN};
		}
		g_mutex_unlock(&ps->lock);
		if (poll(pfd, n, -1) < 0 && errno != EINTR)
			g_usleep(10000); /* cannot happen with valid fds; do not spin */
		if (pfd[0].revents & POLLIN) {
			uint64_t v;

			if (read(ps->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				g_debug("rproc: wake-up read: %s", g_strerror(errno));
		}
		g_mutex_lock(&ps->lock);
		for (unsigned i = 0; i < ps->list->len; i++)
			rproc_try_reap(g_ptr_array_index(ps->list, i));
		g_mutex_unlock(&ps->lock);
	}
}

void rprocs_wake(struct rprocs *ps)
{
	uint64_t one = 1;

	if (write(ps->wake_fd, &one, sizeof(one)) < 0)
		g_debug("rproc: wake-up write: %s", g_strerror(errno));
}

int rprocs_create(struct rprocs **out)
{
	struct rprocs *ps = g_new0(struct rprocs, 1);
	int ret;

	g_mutex_init(&ps->lock);
	ps->list = g_ptr_array_new();
	ps->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ps->wake_fd < 0) {
		ret = -errno;
		goto free_ps;
	}
	ret = -pthread_create(&ps->watcher, NULL, rproc_watch, ps);
	if (ret < 0)
		goto close_wake;
	*out = ps;
	return 0;
close_wake:
	close(ps->wake_fd);
free_ps:
	g_ptr_array_free(ps->list, TRUE);
	g_mutex_clear(&ps->lock);
	g_free(ps);
	return ret;
}

/* Wait for p's pidfd for at most ms (lock not held). */
static void rproc_wait_exit(struct rproc *p, int ms)
{
	struct pollfd pfd = {.fd = p->pidfd, .events = POLLIN};

	if (p->pidfd >= 0 && poll(&pfd, 1, ms) < 0)
		g_debug("rproc: poll on pidfd: %s", g_strerror(errno));
}

/*
 * Stop p (taken out of the list already): close its control channel (the process
 * exits when it closes), SIGTERM, SIGKILL after RPROC_STOP_MS, and reap it.
 */
void rproc_stop(struct rprocs *ps, struct rproc *p)
{
	g_mutex_lock(&ps->lock);
	p->stopping = true;
	g_clear_pointer(&p->qmp, rqmp_close);
	if (p->health == RPROC_RUNNING)
		pidfd_send_signal(p->pidfd, SIGTERM, NULL, 0);
	g_mutex_unlock(&ps->lock);
	rproc_wait_exit(p, RPROC_STOP_MS);
	g_mutex_lock(&ps->lock);
	if (!rproc_try_reap(p)) {
		pidfd_send_signal(p->pidfd, SIGKILL, NULL, 0);
		g_mutex_unlock(&ps->lock);
		rproc_wait_exit(p, -1);
		g_mutex_lock(&ps->lock);
		rproc_try_reap(p);
	}
	g_mutex_unlock(&ps->lock);
	rproc_free(p);
}

void rprocs_destroy(struct rprocs *ps)
{
	if (!ps)
		return;
	while (ps->list->len) {
		struct rproc *p;

		g_mutex_lock(&ps->lock);
		p = g_ptr_array_steal_index(ps->list, ps->list->len - 1);
		g_mutex_unlock(&ps->lock);
		rproc_stop(ps, p);
	}
	g_mutex_lock(&ps->lock);
	ps->stop = true;
	g_mutex_unlock(&ps->lock);
	rprocs_wake(ps);
	pthread_join(ps->watcher, NULL);
	close(ps->wake_fd);
	g_ptr_array_free(ps->list, TRUE);
	g_mutex_clear(&ps->lock);
	g_free(ps);
}

int rproc_remove(struct rprocs *ps, const char *id, GError **err)
{
	struct rproc *p;

	g_mutex_lock(&ps->lock);
	p = rproc_find(ps, id);
	if (!p) {
		g_mutex_unlock(&ps->lock);
		g_set_error(err, VMM_ERROR, ENOENT, "object '%s' not found", id);
		return -ENOENT;
	}
	rproc_try_reap(p);
	if (p->devices->len && p->health == RPROC_RUNNING) { /* a dead one's devices failed */
		g_mutex_unlock(&ps->lock);
		g_set_error(err, VMM_ERROR, EBUSY,
			    "remote-process '%s' still hosts %u device(s), "
			    "first '%s'; device_del them first",
			    id, p->devices->len, (const char *)g_ptr_array_index(p->devices, 0));
		return -EBUSY;
	}
	g_ptr_array_remove_fast(ps->list, p);
	g_mutex_unlock(&ps->lock);
	rprocs_wake(ps);
	rproc_stop(ps, p);
	return 0;
}

/*
 * binary=PATH as given, else mpvmm-<class> next to this executable, else in $PATH.
 * binary= comes from the command line only: object-add refuses it (rproc_opt.c).
 */
static char *rproc_binary(const struct rproc_opt *o, GError **err)
{
	g_autofree char *name = g_strdup_printf("mpvmm-%s", o->cls);
	g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
	g_autofree char *dir = self ? g_path_get_dirname(self) : NULL;
	g_autofree char *near = dir ? g_build_filename(dir, name, NULL) : NULL;
	char *found;

	if (o->binary) {
		if (g_file_test(o->binary, G_FILE_TEST_IS_EXECUTABLE) &&
		    !g_file_test(o->binary, G_FILE_TEST_IS_DIR))
			return g_canonicalize_filename(o->binary, NULL);
		g_set_error(err, VMM_ERROR, ENOENT,
			    "-object remote-process,id=%s: binary=%s is "
			    "not an executable file; give the path of mpvmm-%s",
			    o->id, o->binary, o->cls);
		return NULL;
	}
	if (near && g_file_test(near, G_FILE_TEST_IS_EXECUTABLE))
		return g_steal_pointer(&near);
	found = g_find_program_in_path(name);
	if (!found)
		g_set_error(err, VMM_ERROR, ENOENT,
			    "-object remote-process,id=%s: cannot find %s "
			    "next to %s or in $PATH; install it there, or give binary=PATH "
			    "on mpvmm's command line",
			    o->id, name, self ? self : "mpvmm");
	return found;
}

/* The class binary's command line: the control channel is fd 3. */
static GStrv rproc_argv(const struct rproc *p, const struct rproc_opt *o)
{
	GPtrArray *a = g_ptr_array_new();

	g_ptr_array_add(a, g_strdup(p->binary));
	g_ptr_array_add(a, g_strdup("--control=3"));
	if (o->sandbox)
		g_ptr_array_add(a, g_strdup_printf("--sandbox=%s", o->sandbox));
	if (o->uid >= 0)
		g_ptr_array_add(a, g_strdup_printf("--uid=%" G_GINT64_FORMAT, o->uid));
	if (o->gid >= 0)
		g_ptr_array_add(a, g_strdup_printf("--gid=%" G_GINT64_FORMAT, o->gid));
	g_ptr_array_add(a, NULL);
	return (GStrv)g_ptr_array_free(a, FALSE);
}

/*
 * Start the child with sv[1] as its fd 3; stdin and stdout /dev/null (mpvmm's stdout
 * may be the guest's console), stderr shared for its log.  Every other fd is closed
 * in the child.
 */
static int rproc_exec(struct rproc *p, const struct rproc_opt *o, int child_fd, GError **err)
{
	g_auto(GStrv) argv = rproc_argv(p, o);
	const int target = 3;
	GError *why = NULL;

	if (!g_spawn_async_with_pipes_and_fds(
		    NULL, (const char *const *)argv, NULL,
		    G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, -1, -1, -1,
		    &child_fd, &target, 1, &p->pid, NULL, NULL, NULL, &why)) {
		g_set_error(err, VMM_ERROR, ENOEXEC, "remote-process %s: cannot start %s: %s",
			    p->id, p->binary, why->message);
		g_error_free(why);
		return -ENOEXEC;
	}
	p->pidfd = pidfd_open(p->pid, 0);
	if (p->pidfd < 0) {
		int e = errno;

		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		g_set_error(err, VMM_ERROR, e, "remote-process %s: pidfd_open: %s", p->id,
			    g_strerror(e));
		return -e;
	}
	return 0;
}

/* Negotiation failed: say why, with how the child ended if it did. */
static void rproc_spawn_failed(struct rproc *p, GError **err, GError *why)
{
	g_autofree char *how = NULL;
	int status;

	p->stopping = true; /* reported here, not by the watcher */
	pidfd_send_signal(p->pidfd, SIGKILL, NULL, 0);
	rproc_wait_exit(p, -1);
	if (waitpid(p->pid, &status, 0) == p->pid) {
		p->health = WIFSIGNALED(status) ? RPROC_KILLED : RPROC_EXITED;
		p->code = WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status);
	}
	how = rproc_health_text(p);
	g_set_error(err, VMM_ERROR, EPROTO,
		    "remote-process %s: %s (pid %d) did not answer on "
		    "its control channel (%s; the process %s); see its messages above",
		    p->id, p->binary, p->pid, why->message, how);
	g_error_free(why);
}

/* The new process's control channel, and its first query-sandbox. */
static int rproc_negotiate(struct rproc *p, int fd, GError **err)
{
	GError *why = NULL;
	int ret = rqmp_connect(fd, &p->qmp, &why);

	if (ret < 0) {
		rproc_spawn_failed(p, err, why);
		return ret;
	}
	if (rqmp_call(p->qmp, "query-sandbox", NULL, -1, &p->sandbox, &why) < 0) {
		g_debug("remote-process %s: query-sandbox: %s", p->id, why->message);
		g_clear_error(&why);
	}
	return 0;
}

int rproc_spawn(struct rprocs *ps, const struct rproc_opt *o, GError **err)
{
	struct rproc *p = g_new0(struct rproc, 1);
	int sv[2] = {-1, -1}, ret;

	p->id = g_strdup(o->id);
	p->cls = g_strdup(o->cls);
	p->pidfd = -1;
	p->devices = g_ptr_array_new_with_free_func(g_free);
	g_mutex_lock(&ps->lock);
	if (rproc_find(ps, o->id)) {
		g_set_error(err, VMM_ERROR, EEXIST,
			    "remote-process %s: an object with this id "
			    "already exists; choose another id",
			    o->id);
		ret = -EEXIST;
		goto fail;
	}
	p->binary = rproc_binary(o, err);
	if (!p->binary) {
		ret = -ENOENT;
		goto fail;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		ret = -errno;
		g_set_error(err, VMM_ERROR, -ret, "remote-process %s: socketpair: %s", o->id,
			    g_strerror(-ret));
		goto fail;
	}
	ret = rproc_exec(p, o, sv[1], err);
	close(sv[1]);
	if (ret < 0) {
		close(sv[0]);
		goto fail;
	}
	ret = rproc_negotiate(p, sv[0], err); /* takes sv[0] */
	if (ret < 0)
		goto fail;
	g_ptr_array_add(ps->list, p);
	g_mutex_unlock(&ps->lock);
	rprocs_wake(ps);
	g_info("remote-process %s: %s, pid %d", p->id, p->binary, p->pid);
	return 0;
fail:
	g_mutex_unlock(&ps->lock);
	rproc_free(p);
	return ret;
}

/* {"status": "running"} / {"status": "exited", "exit-status": N} / {"status": "killed",
 * "signal": "SIGSYS"} */
static json_object *rproc_health_json(const struct rproc *p)
{
	static const char *const names[] = {"running", "exited", "killed"};
	json_object *h = json_object_new_object();
	const char *sig;

	json_object_object_add(h, "status", json_object_new_string(names[p->health]));
	if (p->health == RPROC_EXITED)
		json_object_object_add(h, "exit-status", json_object_new_int(p->code));
	if (p->health == RPROC_KILLED) {
		g_autofree char *name = NULL;

		sig = sigabbrev_np(p->code);
		name = sig ? g_strdup_printf("SIG%s", sig) : g_strdup_printf("%d", p->code);
		json_object_object_add(h, "signal", json_object_new_string(name));
	}
	return h;
}

/* One process's entry; the sandbox state is asked again while it runs. */
static json_object *rproc_query_one(struct rproc *p)
{
	json_object *o = json_object_new_object(), *devs = json_object_new_array();
	json_object *sb = NULL;
	GError *why = NULL;

	rproc_try_reap(p); /* the watcher may not have run yet */
	if (p->health == RPROC_RUNNING && p->qmp && !rqmp_broken(p->qmp)) {
		if (rqmp_call(p->qmp, "query-sandbox", NULL, -1, &sb, &why) == 0 &&
		    json_object_is_type(sb, json_type_object)) {
			json_object_put(p->sandbox);
			p->sandbox = json_object_get(sb);
		}
		json_object_put(sb);
		g_clear_error(&why);
	}
	for (unsigned i = 0; i < p->devices->len; i++)
		json_object_array_add(devs,
				      json_object_new_string(g_ptr_array_index(p->devices, i)));
	json_object_object_add(o, "id", json_object_new_string(p->id));
	json_object_object_add(o, "pid", json_object_new_int(p->pid));
	json_object_object_add(o, "class", json_object_new_string(p->cls));
	json_object_object_add(o, "binary", json_object_new_string(p->binary));
	json_object_object_add(o, "devices", devs);
	json_object_object_add(o, "sandbox", p->sandbox ? json_object_get(p->sandbox) : NULL);
	json_object_object_add(o, "health", rproc_health_json(p));
	return o;
}

json_object *rprocs_query(struct rprocs *ps)
{
	json_object *list = json_object_new_array();

	g_mutex_lock(&ps->lock);
	for (unsigned i = 0; i < ps->list->len; i++)
		json_object_array_add(list, rproc_query_one(g_ptr_array_index(ps->list, i)));
	g_mutex_unlock(&ps->lock);
	return list;
}
