# KC_CHECK_CFLAG(FLAG, [ACTION-IF-OK], [ACTION-IF-NOT])
# Probe whether the C compiler accepts FLAG (warnings promoted to errors,
# so an unknown -W option is refused rather than ignored).
AC_DEFUN([KC_CHECK_CFLAG], [
  AS_VAR_PUSHDEF([kc_cache], [kc_cv_cflag_$1])
  AC_CACHE_CHECK([whether $CC accepts $1], [kc_cache], [
    kc_save_CFLAGS=$CFLAGS
    CFLAGS="$CFLAGS -Werror $1"
    AC_LINK_IFELSE([AC_LANG_PROGRAM([], [])],
      [AS_VAR_SET([kc_cache], [yes])], [AS_VAR_SET([kc_cache], [no])])
    CFLAGS=$kc_save_CFLAGS
  ])
  AS_VAR_IF([kc_cache], [yes], [$2], [$3])
  AS_VAR_POPDEF([kc_cache])
])
