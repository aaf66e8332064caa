/*
 * safefile.c - see safefile.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "safefile.h"

enum err_class
safefile_class(int e)
{
	switch (e) {
	case ENOSPC:
	case EDQUOT:
	case EIO:
	case EROFS:
		return ERR_IO;
	default:
		return ERR_CANTCREAT;
	}
}

/*
 * The mail spool convention (/var/mail/alice): root delivering to a file
 * named after a user, in a directory root owns, delivers for that user.
 * Sets *uid to the user's and returns 1 then.  Only the named user can
 * own such a file (a member of group mail can plant one, but owned by
 * itself), so a planted file is still refused.
 */
static int
spool_user(const struct stat *parent, const char *name, uid_t *uid)
{
	struct passwd *pw;

	if (name == NULL || parent == NULL || geteuid() != 0 ||
	    parent->st_uid != 0 || strchr(name, '/') != NULL)
		return 0;
	if ((pw = getpwnam(name)) == NULL || pw->pw_uid == 0)
		return 0;
	*uid = pw->pw_uid;
	return 1;
}

/* Whether a file owned by uid, named name (NULL: not a mailbox) in
 * parent, may be used by us. */
static int
owner_ok(uid_t uid, const struct stat *parent, const char *name)
{
	uid_t me = geteuid(), spool;

	if (uid == me)
		return 1;
	if (me == 0 && parent != NULL && uid == parent->st_uid)
		return 1;
	return spool_user(parent, name, &spool) && uid == spool;
}

int
safefile_check(int fd, const struct stat *parent, const char *name, int dir,
    const char *shown, struct error *err)
{
	struct stat sb;

	if (fstat(fd, &sb) == -1)
		return error_set(err, safefile_class(errno), "%s: %s", shown,
		    strerror(errno));
	if (dir ? !S_ISDIR(sb.st_mode) : !S_ISREG(sb.st_mode))
		return error_set(err, ERR_CANTCREAT, "%s: not a %s", shown,
		    dir ? "directory" : "regular file");
	/* A hard link to a file elsewhere would be written through. */
	if (!dir && sb.st_nlink != 1)
		return error_set(err, ERR_CANTCREAT, "%s: has %ju hard links; "
		    "refusing to write to it", shown, (uintmax_t)sb.st_nlink);
	if (!owner_ok(sb.st_uid, parent, dir ? NULL : name) &&
	    !(parent == NULL && sb.st_uid == 0))
		return error_set(err, ERR_CANTCREAT, "%s: owned by uid %ju, "
		    "not by the user popfetch runs as; refusing to use it",
		    shown, (uintmax_t)sb.st_uid);
	return 0;
}

int
safefile_opendir(int at, const char *name, const struct stat *parent,
    const char *shown, struct error *err)
{
	int fd;

	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1) {
		if (errno == ELOOP || errno == ENOTDIR) {
			struct stat sb;

			if (fstatat(at, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(sb.st_mode))
				return error_set(err, ERR_CANTCREAT, "%s: is a "
				    "symbolic link; refusing to follow it "
				    "(remove it or name the real directory)",
				    shown);
			return error_set(err, ERR_CANTCREAT, "%s: not a "
			    "directory", shown);
		}
		return error_set(err, safefile_class(errno), "%s: %s", shown,
		    strerror(errno));
	}
	if (safefile_check(fd, parent, NULL, 1, shown, err) == -1) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

int
safefile_chown(int fd, const struct stat *parent, const char *name,
    const char *shown, struct error *err)
{
	uid_t uid;

	if (spool_user(parent, name, &uid))
		;
	else if (parent == NULL || parent->st_uid == 0 || geteuid() != 0)
		/* The cheap tests first: this runs once a message. */
		return 0;
	else
		uid = parent->st_uid;
	if (fchown(fd, uid, parent->st_gid) == -1)
		return error_set(err, safefile_class(errno), "%s: chown: %s",
		    shown, strerror(errno));
	return 0;
}

int
safefile_mkdir(int at, const struct stat *parent, const char *name,
    const char *shown, struct error *err)
{
	int fd, r;

	if (mkdirat(at, name, 0700) == -1) {
		if (errno == EEXIST)
			return 0;
		return error_set(err, safefile_class(errno), "%s: %s", shown,
		    strerror(errno));
	}
	if ((fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return error_set(err, safefile_class(errno), "%s: %s", shown,
		    strerror(errno));
	r = safefile_chown(fd, parent, NULL, shown, err);
	(void)close(fd);
	if (r == -1)
		return -1;
	/* The new entry is durable only once its directory is. */
	if (fsync(at) == -1)
		return error_set(err, safefile_class(errno), "%s: fsync of "
		    "its directory: %s", shown, strerror(errno));
	return 0;
}

int
safefile_mkparents(const char *path, struct error *err)
{
	char buf[PATH_MAX], *p, *comp, *end;
	struct stat dsb;
	size_t len = strlen(path);
	int dfd, fd;

	if (len >= sizeof(buf))
		return error_set(err, ERR_CANTCREAT, "%s: path too long", path);
	memcpy(buf, path, len + 1);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	if ((end = strrchr(buf, '/')) == NULL || end == buf)
		return 0;	/* in "." or in "/": nothing to make */
	*end = '\0';
	/* Existing components are the user's own path and are followed;
	 * only what is made here is opened without following. */
	comp = buf;
	if (buf[0] == '/') {
		dfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		comp++;
	} else
		dfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1)
		return error_set(err, safefile_class(errno), "%s: %s", buf,
		    strerror(errno));
	for (;;) {
		while (*comp == '/')
			comp++;
		if (*comp == '\0')
			break;
		if ((p = strchr(comp, '/')) != NULL)
			*p = '\0';
		fd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd == -1 && errno == ENOENT) {
			if (fstat(dfd, &dsb) == -1) {
				error_set(err, safefile_class(errno), "%s: %s",
				    buf, strerror(errno));
				(void)close(dfd);
				return -1;
			}
			if (safefile_mkdir(dfd, &dsb, comp, buf, err) == -1) {
				(void)close(dfd);
				return -1;
			}
			fd = openat(dfd, comp, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd == -1) {
			error_set(err, safefile_class(errno), "%s: %s", buf,
			    strerror(errno));
			(void)close(dfd);
			return -1;
		}
		(void)close(dfd);
		dfd = fd;
		if (p == NULL)
			break;
		*p = '/';
		comp = p + 1;
	}
	(void)close(dfd);
	return 0;
}
