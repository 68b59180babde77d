# kmodpack's DKMS recipe runner. For one kernel it does what `dkms build`
# does to a module tree, so that a dkms.conf means the same thing here as it
# does to DKMS (3.0, Debian 12's): the conf is sourced by bash with DKMS's
# variables set, its settings are derived with DKMS's defaults, and the build
# runs PATCH, PRE_BUILD, the chosen MAKE, POST_BUILD in a copy of the tree.
# Written for kmodpack from DKMS's documented behaviour (dkms(8)) and from
# observing DKMS; the behaviours it reproduces are listed where they matter.
#
# One file, two modes:
#   eval   source dkms.conf and report what it declares, as NUL-separated
#          records on fd 3 (used by `kmodpack spec --from-dkms`);
#   build  run the recipe and copy the declared modules out (used by the
#          generated spec's %build, one call per target kernel).
#
# Inputs (environment):
#   KMODPACK_DKMS_CONF           dkms.conf, absolute path
#   KMODPACK_SOURCE_DIR          the module's source tree
#   KMODPACK_KERNEL_RELEASE      release of the kernel tree compiled against (DKMS's kernelver)
#   KMODPACK_KERNEL_BUILD_DIR    that tree (DKMS's kernel_source_dir)
#   KMODPACK_ARCH                machine arch (DKMS's arch, `uname -m` style)
#   KMODPACK_JOBS                parallel make jobs (DKMS's parallel_jobs)
#   KMODPACK_WORK                empty scratch directory (holds DKMS's dkms_tree and source_tree)
#   KMODPACK_DKMS_MODULE         DKMS module name / version (empty on the first
#   KMODPACK_DKMS_MODULE_VERSION   read, as when `dkms add` reads a new tree)
#   KMODPACK_MODULES             build mode: module names the package declares (space separated)
#   KMODPACK_OUT                 build mode: directory that receives <name>.ko

kp_mode=$1
kmodpack_errors=()
kp_problem() { kmodpack_errors+=("$*"); }

# What a dkms.conf can rely on being set when DKMS sources it.
kernelver=$KMODPACK_KERNEL_RELEASE
arch=$KMODPACK_ARCH
kernel_source_dir=$KMODPACK_KERNEL_BUILD_DIR
# DKMS names the tree /lib/modules/<kernelver>/build and recipes build other
# paths from that spelling (OpenZFS: ${kernel_source_dir/%build/source}), so
# that name is used whenever it is the very tree being compiled against.
if [[ -e /lib/modules/$kernelver/build &&
    $(readlink -f "/lib/modules/$kernelver/build") == "$(readlink -f "$KMODPACK_KERNEL_BUILD_DIR")" ]]; then
    kernel_source_dir=/lib/modules/$kernelver/build
fi
kernel_config=$kernel_source_dir/.config
dkms_tree=$KMODPACK_WORK/dkms
source_tree=$KMODPACK_WORK/src
install_tree=$KMODPACK_WORK/modules
current_os=Linux
parallel_jobs=$KMODPACK_JOBS
module=$KMODPACK_DKMS_MODULE
module_version=$KMODPACK_DKMS_MODULE_VERSION
mkdir -p "$dkms_tree" "$source_tree" || exit 1

# The settings DKMS takes from a dkms.conf (and the lower-case names it
# derives), cleared before every read so nothing leaks between kernels.
kp_conf_names=(
    PACKAGE_NAME PACKAGE_VERSION CLEAN MAKE MAKE_MATCH PATCH PATCH_MATCH
    BUILT_MODULE_NAME BUILT_MODULE_LOCATION DEST_MODULE_NAME DEST_MODULE_LOCATION
    STRIP PRE_BUILD POST_BUILD POST_ADD POST_INSTALL POST_REMOVE PRE_INSTALL
    BUILD_DEPENDS BUILD_EXCLUSIVE_KERNEL BUILD_EXCLUSIVE_ARCH BUILD_EXCLUSIVE_CONFIG
    OBSOLETE_BY AUTOINSTALL NO_WEAK_MODULES SIGN_FILE MOK_SIGNING_KEY MOK_CERTIFICATE
    REMAKE_INITRD MODULES_CONF MODULES_CONF_OBSOLETES MODULES_CONF_ALIAS_TYPE
    MODULES_CONF_OBSOLETE_ONLY
    built_module_name built_module_location dest_module_name dest_module_location
    strip patch_array build_exclude
)

# Sources the conf the way DKMS does, quirks included:
# - in a subshell, so a conf that runs `exit` or `cd` does not end the caller
#   (DKMS then carries on with whatever was written so far; kmodpack reports it);
# - the conf's standard output does not reach DKMS's (fd 4 here: a file the
#   caller inspects in eval mode, /dev/null in build mode);
# - only the listed names come back, every index of each as a line
#   `NAME[i]="value"` that is sourced again — so a value goes through a second
#   round of shell expansion (`PACKAGE_NAME='$x'` arrives empty, as with DKMS),
#   and before that is split into words and glob-expanded, the words joined by
#   single spaces (`MAKE[0]="make  -C x"` arrives as `make -C x`; leading or
#   trailing white space as one space).
kp_source_conf() {
    local carry=$KMODPACK_WORK/conf-values.sh
    (
        . "$KMODPACK_DKMS_CONF" >&4
        local name i
        for name in "${kp_conf_names[@]}"; do
            local -n kp_ref=$name
            for i in "${!kp_ref[@]}"; do
                # The value is left unquoted on purpose: split, globbed and
                # re-joined by echo, as DKMS does it.
                # shellcheck disable=SC2086
                echo "$name[$i]=\""${kp_ref[$i]}"\""
            done
            unset -n kp_ref
        done
        printf '%s\n' '# kmodpack: sourced to the end'
    ) >"$carry"
    if [[ $(tail -n 1 "$carry") != '# kmodpack: sourced to the end' ]]; then
        kp_problem "exited while being sourced (DKMS would stop here)"
    fi
    . "$carry"
    rm -f "$carry"
}

# The number of module records: the longest of the four per-module arrays.
kp_record_count() {
    local longest=0 n
    for n in ${#BUILT_MODULE_NAME[@]} ${#BUILT_MODULE_LOCATION[@]} \
        ${#DEST_MODULE_NAME[@]} ${#DEST_MODULE_LOCATION[@]}; do
        ((n > longest)) && longest=$n
    done
    echo "$longest"
}

# Per-record defaults. A conf with none of the four arrays describes one
# module named after PACKAGE_NAME (DKMS >= 3.0.4 made DEST_MODULE_LOCATION
# optional); so does a single record that names no module but gives a
# destination. The destination name defaults to the built name, a location
# gets its trailing slash, STRIP[n] is yes or no by its first letter, and
# an empty STRIP[n] takes record 0's (default yes).
kp_derive_records() {
    local count r
    count=$(kp_record_count)
    kmodpack_defaulted_record=
    if ((count == 0)); then
        count=1
        kmodpack_defaulted_record=yes
    fi
    for ((r = 0; r < count; r++)); do
        local built=${BUILT_MODULE_NAME[$r]} where=${BUILT_MODULE_LOCATION[$r]}
        if [[ -z $built ]] && { [[ $kmodpack_defaulted_record ]] || ((${#DEST_MODULE_LOCATION[@]} == 1)); }; then
            built=$PACKAGE_NAME
        fi
        [[ -n $where && $where != */ ]] && where+=/
        built_module_name[r]=$built
        built_module_location[r]=$where
        dest_module_name[r]=${DEST_MODULE_NAME[$r]:-$built}
        dest_module_location[r]=${DEST_MODULE_LOCATION[$r]}
        case ${STRIP[$r]} in
            [nN]*) strip[r]=no ;;
            [yY]*) strip[r]=yes ;;
            '') strip[r]=${strip[0]:-yes} ;;
        esac
        [[ -n $built ]] || kp_problem "no BUILT_MODULE_NAME for record #$r"
        [[ $built == *.o || $built == *.ko ]] && kp_problem "BUILT_MODULE_NAME[$r] ends in .o or .ko"
        [[ ${dest_module_name[r]} == *.o || ${dest_module_name[r]} == *.ko ]] &&
            kp_problem "DEST_MODULE_NAME[$r] ends in .o or .ko"
    done
}

# MAKE[0] unless a MAKE[n] whose MAKE_MATCH[n] regex matches the kernel
# release says otherwise (the last match wins; a MAKE[0] with its own
# MAKE_MATCH applies only when it matches). Indices are visited from 0 up to
# the number of elements, as DKMS does, so an entry past a gap is not seen.
# Without any, kbuild's M= build of DKMS's build directory. A clang/lld
# kernel gets CC=clang / LD=ld.lld.
kp_choose_make() {
    local build=$dkms_tree/$module/$module_version/build i
    make_command=
    [[ -z ${MAKE_MATCH[0]} ]] && make_command=${MAKE[0]}
    for ((i = 0; i < ${#MAKE[@]}; i++)); do
        if [[ -n ${MAKE[$i]} && -n ${MAKE_MATCH[$i]} && $kernelver =~ ${MAKE_MATCH[$i]} ]]; then
            make_command=${MAKE[$i]}
        fi
    done
    : "${make_command:=make -C $kernel_source_dir M=$build}"
    clean=${CLEAN:-make -C $kernel_source_dir M=$build clean}
    if [[ -e $kernel_config ]]; then
        grep -q '^CONFIG_CC_IS_CLANG=y' "$kernel_config" && make_command+=" CC=clang"
        grep -q '^CONFIG_LD_IS_LLD=y' "$kernel_config" && make_command+=" LD=ld.lld"
    fi
}

# The patches that apply to this kernel: PATCH[n] without a PATCH_MATCH[n],
# or whose PATCH_MATCH[n] regex matches the release, in index order (0 up
# to the number of elements, as for MAKE).
kp_choose_patches() {
    local i
    patch_array=()
    for ((i = 0; i < ${#PATCH[@]}; i++)); do
        [[ -n ${PATCH[$i]} ]] || continue
        # DKMS reads patches/<name> in the build directory; a name that leaves
        # that directory would read a file of the build host into the package.
        if [[ ${PATCH[$i]} == /* || /${PATCH[$i]}/ == */../* ]]; then
            kp_problem "PATCH[$i]=\"${PATCH[$i]}\" is not a file under patches/ (absolute or with ..)"
            continue
        fi
        if [[ -z ${PATCH_MATCH[$i]} || $kernelver =~ ${PATCH_MATCH[$i]} ]]; then
            patch_array+=("${PATCH[$i]}")
        fi
    done
}

# BUILD_EXCLUSIVE_KERNEL / _ARCH are regexes the release / arch must match;
# BUILD_EXCLUSIVE_CONFIG lists CONFIG_ options the kernel must have set to y
# or m (`!CONFIG_X`: must not). The last reason found is the one reported.
kp_check_exclusive() {
    build_exclude=
    kmodpack_exclude_reason=
    kp_exclude() { build_exclude=yes; kmodpack_exclude_reason=$1; }
    if [[ -n $BUILD_EXCLUSIVE_KERNEL && ! $kernelver =~ $BUILD_EXCLUSIVE_KERNEL ]]; then
        kp_exclude "BUILD_EXCLUSIVE_KERNEL=\"$BUILD_EXCLUSIVE_KERNEL\" does not match kernel $kernelver"
    fi
    if [[ -n $BUILD_EXCLUSIVE_ARCH && ! $arch =~ $BUILD_EXCLUSIVE_ARCH ]]; then
        kp_exclude "BUILD_EXCLUSIVE_ARCH=\"$BUILD_EXCLUSIVE_ARCH\" does not match arch $arch"
    fi
    if [[ -n $BUILD_EXCLUSIVE_CONFIG && -e $kernel_config ]]; then
        local option
        for option in $BUILD_EXCLUSIVE_CONFIG; do
            if [[ $option == !* ]]; then
                grep -q -E "^${option#!}=[ym]" "$kernel_config" &&
                    kp_exclude "BUILD_EXCLUSIVE_CONFIG: kernel $kernelver has ${option#!} set"
            else
                grep -q -E "^${option}=[ym]" "$kernel_config" ||
                    kp_exclude "BUILD_EXCLUSIVE_CONFIG: kernel $kernelver does not set $option"
            fi
        done
    fi
}

# Reads the conf for $kernelver / $arch and derives everything from it.
kp_read_conf() {
    unset "${kp_conf_names[@]}"
    kp_source_conf
    package_name=$PACKAGE_NAME
    package_version=$PACKAGE_VERSION
    pre_build=$PRE_BUILD
    post_build=$POST_BUILD
    post_add=$POST_ADD
    post_install=$POST_INSTALL
    pre_install=$PRE_INSTALL
    post_remove=$POST_REMOVE
    obsolete_by=$OBSOLETE_BY
    kp_derive_records
    kp_choose_make
    kp_choose_patches
    kp_check_exclusive
    [[ -n $package_name ]] || kp_problem "no PACKAGE_NAME"
    [[ -n $package_version ]] || kp_problem "no PACKAGE_VERSION"
}

# eval mode's output: records KEY NUL INDEX NUL VALUE NUL (empty index for scalars).
kp_emit() { printf '%s\0%s\0%s\0' "$1" "$2" "$3"; }
kp_emit_array() {
    local -n kp_arr=$1
    local i
    for i in "${!kp_arr[@]}"; do
        kp_emit "$1" "$i" "${kp_arr[$i]}"
    done
}

# A PRE_BUILD / POST_BUILD script: a path relative to the build directory,
# possibly with arguments; DKMS runs it only when it is executable.
kp_hook() {
    local what=$1 command=$2
    [[ -n $command ]] || return 0
    local run=$kp_build/$command
    if [[ ! -x ${run%% *} ]]; then
        echo "kmodpack: the $what script $command is not executable; DKMS skips it too" >&2
        return 0
    fi
    echo "kmodpack: running the $what script: $command"
    # DKMS ignores the script's exit status; a real failure shows up in make.
    (cd "$kp_build" && exec $run) ||
        echo "kmodpack: warning: the $what script $command failed (exit status $?); DKMS goes on too" >&2
}

# The compiler the kernel was built with: DKMS exports CC from
# CONFIG_CC_VERSION_TEXT for the hooks, and for make takes CC from the
# tree's .kernelvariables when there is one (else leaves CC unset).
kp_hook_cc() {
    [[ -e $kernel_config ]] || return 0
    local text cc
    text=$(grep -m1 '^CONFIG_CC_VERSION_TEXT=' "$kernel_config")
    text=${text#*=\"}
    cc=${text%% *}
    if [[ -n $cc ]] && command -v "$cc" >/dev/null; then
        export CC=$cc
    fi
}
kp_make_cc() {
    if [[ -f $kernel_source_dir/.kernelvariables ]]; then
        CC=$(make -s --no-print-directory -f - kp-print-cc <<EOF
include $kernel_source_dir/.kernelvariables
kp-print-cc:
	@echo \$(CC)
EOF
        )
        export CC
    else
        unset CC
    fi
}

case $kp_mode in
eval)
    # What the conf prints goes to files the caller inspects.
    exec 3>&1 5>&2 >"$KMODPACK_WORK/conf.stdout" 4>&1 2>"$KMODPACK_WORK/conf.stderr"
    kp_read_conf
    exec 2>&5 4>&-
    for v in package_name package_version make_command clean pre_build post_build \
        post_add post_install pre_install post_remove obsolete_by build_exclude \
        kmodpack_exclude_reason kmodpack_defaulted_record \
        CLEAN AUTOINSTALL NO_WEAK_MODULES BUILD_EXCLUSIVE_KERNEL BUILD_EXCLUSIVE_ARCH \
        BUILD_EXCLUSIVE_CONFIG SIGN_FILE MOK_SIGNING_KEY MOK_CERTIFICATE; do
        kp_emit "$v" "" "${!v}" >&3
    done
    for a in built_module_name built_module_location dest_module_name dest_module_location \
        strip patch_array BUILD_DEPENDS REMAKE_INITRD MODULES_CONF MODULES_CONF_OBSOLETES \
        MODULES_CONF_ALIAS_TYPE MODULES_CONF_OBSOLETE_ONLY MAKE MAKE_MATCH PATCH PATCH_MATCH \
        DEST_MODULE_LOCATION DEST_MODULE_NAME BUILT_MODULE_LOCATION STRIP \
        kmodpack_errors; do
        kp_emit_array "$a" >&3
    done
    kp_emit end "" "" >&3
    ;;
build)
    # rpmbuild's %build exports compiler settings that DKMS's environment
    # does not have; a Makefile would pick them up.
    unset CC CXX CFLAGS CXXFLAGS LDFLAGS
    # The conf's standard output is dropped, as DKMS drops it; its errors
    # go to the build log.
    exec 4>/dev/null
    kp_read_conf
    exec 4>&-
    if ((${#kmodpack_errors[@]})); then
        echo "kmodpack: $KMODPACK_DKMS_CONF for kernel $kernelver: ${kmodpack_errors[0]}" >&2
        exit 1
    fi
    if [[ $build_exclude ]]; then
        echo "kmodpack: skipped: $kmodpack_exclude_reason (DKMS does not build this module for this kernel)" >&2
        exit 77
    fi
    # DKMS's layout: the sources under $source_tree/<module>-<version>, a
    # `source` link to them in $dkms_tree/<module>/<version>, and the build in
    # a fresh copy, $dkms_tree/<module>/<version>/build — recipes refer to
    # these paths.
    kp_src=$source_tree/$module-$module_version
    kp_build=$dkms_tree/$module/$module_version/build
    mkdir -p "$dkms_tree/$module/$module_version" || exit 1
    cp -a "$KMODPACK_SOURCE_DIR/." "$kp_src" || exit 1
    ln -s "$kp_src" "$dkms_tree/$module/$module_version/source" || exit 1
    cp -a "$kp_src/." "$kp_build" || exit 1
    cd "$kp_build" || exit 1
    for p in "${patch_array[@]}"; do
        if [[ ! -e $kp_build/patches/$p ]]; then
            echo "kmodpack: $KMODPACK_DKMS_CONF: patch $p (PATCH[]) is not in patches/" >&2
            exit 1
        fi
        echo "kmodpack: applying patch $p"
        patch -p1 <"patches/$p" || { echo "kmodpack: patch $p failed to apply" >&2; exit 1; }
    done
    kp_hook_cc
    kp_hook PRE_BUILD "$pre_build"
    kp_make_cc
    # DKMS inserts the job count and the release right after the leading `make`.
    kp_make=$make_command
    [[ $kp_make == make* ]] && kp_make="make -j$parallel_jobs KERNELRELEASE=$kernelver${kp_make#make}"
    echo "kmodpack: $kp_make"
    eval "$kp_make" || { echo "kmodpack: the DKMS make command failed for kernel $kernelver" >&2; exit 1; }
    for r in "${!built_module_name[@]}"; do
        name=${built_module_name[$r]}
        ko=${built_module_location[$r]}$name.ko
        if [[ ! -e $ko ]]; then
            echo "kmodpack: module $name (BUILT_MODULE_NAME[$r] in $KMODPACK_DKMS_CONF) was not built: $ko is missing" >&2
            exit 1
        fi
        if [[ " $KMODPACK_MODULES " != *" $name "* ]]; then
            echo "kmodpack: $KMODPACK_DKMS_CONF builds module $name for kernel $kernelver, which the description does not list" >&2
            exit 1
        fi
        mkdir -p "$KMODPACK_OUT" && cp -f "$ko" "$KMODPACK_OUT/$name.ko" || exit 1
    done
    for m in $KMODPACK_MODULES; do
        if [[ ! -e $KMODPACK_OUT/$m.ko ]]; then
            echo "kmodpack: module $m is listed in the description but $KMODPACK_DKMS_CONF does not build it for kernel $kernelver" >&2
            exit 1
        fi
    done
    kp_hook POST_BUILD "$post_build"
    ;;
*)
    echo "kmodpack: dkms-recipe: unknown mode $kp_mode" >&2
    exit 2
    ;;
esac
