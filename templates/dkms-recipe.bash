# kmodpack's DKMS recipe runner: does for one kernel what `dkms build` does,
# with DKMS's own rules (ported from DKMS 3.0's read_conf, safe_source,
# prepare_build and actual_build), so a dkms.conf means here what it means
# to DKMS. The same file is used by `kmodpack spec --from-dkms` (mode `eval`:
# source dkms.conf and report what it declares) and by the generated spec's
# %build (mode `build`: run the recipe and collect the modules).
#
# Inputs (environment):
#   KMODPACK_DKMS_CONF           dkms.conf, absolute path
#   KMODPACK_SOURCE_DIR          the module's source tree
#   KMODPACK_KERNEL_RELEASE      release of the kernel tree compiled against (DKMS's kernelver)
#   KMODPACK_KERNEL_BUILD_DIR    that tree (DKMS's kernel_source_dir)
#   KMODPACK_ARCH                machine arch (DKMS's arch, `uname -m` style)
#   KMODPACK_JOBS                parallel make jobs (DKMS's parallel_jobs)
#   KMODPACK_WORK                empty scratch directory (holds DKMS's dkms_tree and source_tree)
#   KMODPACK_DKMS_MODULE         DKMS module name / version (empty: first read, as `dkms add` does)
#   KMODPACK_DKMS_MODULE_VERSION
#   KMODPACK_MODULES             build mode: module names the package declares (space separated)
#   KMODPACK_OUT                 build mode: directory that receives <name>.ko

kmodpack_mode=$1
kmodpack_errors=()
kmodpack_err() { kmodpack_errors+=("$*"); }

# The variables DKMS has set when it sources a dkms.conf.
kernelver=$KMODPACK_KERNEL_RELEASE
arch=$KMODPACK_ARCH
kernel_source_dir=$KMODPACK_KERNEL_BUILD_DIR
# DKMS's kernel_source_dir is /lib/modules/<kernelver>/build; recipes derive
# paths from that name (OpenZFS: ${kernel_source_dir/%build/source}), so it is
# used whenever it is the tree being compiled against.
if [ -e "/lib/modules/$kernelver/build" ] &&
    [ "$(readlink -f "/lib/modules/$kernelver/build")" = "$(readlink -f "$KMODPACK_KERNEL_BUILD_DIR")" ]; then
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

dkms_conf_variables="CLEAN PACKAGE_NAME
   PACKAGE_VERSION POST_ADD POST_BUILD POST_INSTALL POST_REMOVE PRE_BUILD
   PRE_INSTALL BUILD_DEPENDS BUILD_EXCLUSIVE_KERNEL BUILD_EXCLUSIVE_ARCH
   BUILD_EXCLUSIVE_CONFIG
   build_exclude OBSOLETE_BY MAKE MAKE_MATCH
   PATCH PATCH_MATCH patch_array BUILT_MODULE_NAME
   built_module_name BUILT_MODULE_LOCATION built_module_location
   DEST_MODULE_NAME dest_module_name
   DEST_MODULE_LOCATION dest_module_location
   STRIP strip AUTOINSTALL NO_WEAK_MODULES
   SIGN_FILE MOK_SIGNING_KEY MOK_CERTIFICATE
   REMAKE_INITRD MODULES_CONF MODULES_CONF_OBSOLETES
   MODULES_CONF_ALIAS_TYPE MODULES_CONF_OBSOLETE_ONLY"

# DKMS's safe_source: source in a subshell, carry the listed variables back
# through a generated file (which DKMS sources again, so its quirks apply).
kmodpack_safe_source() {
    local to_source_file=$1
    shift
    local tmpfile=$KMODPACK_WORK/safe-source.sh
    (
        exec >"$tmpfile"
        . "$to_source_file" >&4
        for _export_env in "$@"; do
            for _i in $(eval echo \${!$_export_env[@]}); do
                eval echo '$_export_env[$_i]=\"${'$_export_env'[$_i]}\"'
            done
        done
        echo '# kmodpack: sourced to the end'
    )
    if ! grep -qx '# kmodpack: sourced to the end' "$tmpfile"; then
        kmodpack_err "exited while being sourced (DKMS would stop here)"
    fi
    . "$tmpfile"
    rm -f "$tmpfile"
}

# DKMS's read_conf for kernel $kernelver / $arch.
kmodpack_read_conf() {
    local var
    for var in $dkms_conf_variables; do
        unset $var
    done
    kmodpack_safe_source "$KMODPACK_DKMS_CONF" $dkms_conf_variables

    clean="$CLEAN"
    package_name="$PACKAGE_NAME"
    package_version="$PACKAGE_VERSION"
    post_add="$POST_ADD"
    post_build="$POST_BUILD"
    post_install="$POST_INSTALL"
    post_remove="$POST_REMOVE"
    pre_build="$PRE_BUILD"
    pre_install="$PRE_INSTALL"
    obsolete_by="$OBSOLETE_BY"

    local index array_size=0 s
    for s in ${#BUILT_MODULE_NAME[@]} \
        ${#BUILT_MODULE_LOCATION[@]} \
        ${#DEST_MODULE_NAME[@]} \
        ${#DEST_MODULE_LOCATION[@]}; do
        ((s > array_size)) && array_size=$s
    done
    # DKMS 3.0 requires DEST_MODULE_LOCATION; later DKMS made it optional and
    # a conf with none of the four arrays builds one module named PACKAGE_NAME.
    kmodpack_defaulted_record=
    if ((array_size == 0)); then
        array_size=1
        kmodpack_defaulted_record=yes
    fi
    for ((index = 0; index < array_size; index++)); do
        built_module_name[$index]=${BUILT_MODULE_NAME[$index]}
        built_module_location[$index]=${BUILT_MODULE_LOCATION[$index]}
        dest_module_name[$index]=${DEST_MODULE_NAME[$index]}
        dest_module_location[$index]=${DEST_MODULE_LOCATION[$index]}
        case ${STRIP[$index]} in
            [nN]*) strip[$index]="no" ;;
            [yY]*) strip[$index]="yes" ;;
            '') strip[$index]=${strip[0]:-yes} ;;
        esac
        [[ ! ${built_module_name[$index]} ]] &&
            { ((${#DEST_MODULE_LOCATION[@]} == 1)) || [[ $kmodpack_defaulted_record ]]; } &&
            built_module_name[$index]=$PACKAGE_NAME
        [[ ! ${dest_module_name[$index]} ]] &&
            dest_module_name[$index]=${built_module_name[$index]}
        [[ ${built_module_location[$index]} &&
            ${built_module_location[$index]:(-1)} != / ]] &&
            built_module_location[$index]="${built_module_location[$index]}/"
        if [[ ! ${built_module_name[$index]} ]]; then
            kmodpack_err "no BUILT_MODULE_NAME for record #$index"
        fi
        case ${built_module_name[$index]} in
            *.o | *.ko) kmodpack_err "BUILT_MODULE_NAME[$index] ends in .o or .ko" ;;
        esac
        case ${dest_module_name[$index]} in
            *.o | *.ko) kmodpack_err "DEST_MODULE_NAME[$index] ends in .o or .ko" ;;
        esac
    done

    make_command=
    [[ ${MAKE_MATCH[0]} ]] || make_command="${MAKE[0]}"
    for ((index = 0; index < ${#MAKE[@]}; index++)); do
        [[ ${MAKE[$index]} && ${MAKE_MATCH[$index]} &&
            $kernelver =~ ${MAKE_MATCH[$index]} ]] &&
            make_command="${MAKE[$index]}"
    done
    [[ ! $make_command ]] && make_command="make -C $kernel_source_dir M=$dkms_tree/$module/$module_version/build"
    [[ ! $clean ]] && clean="make -C $kernel_source_dir M=$dkms_tree/$module/$module_version/build clean"
    if [[ -e $kernel_config ]]; then
        grep -q CONFIG_CC_IS_CLANG=y "$kernel_config" && make_command="${make_command} CC=clang"
        grep -q CONFIG_LD_IS_LLD=y "$kernel_config" && make_command="${make_command} LD=ld.lld"
    fi

    local count=0
    patch_array=()
    for ((index = 0; index < ${#PATCH[@]}; index++)); do
        if [[ ${PATCH[$index]} && (! ${PATCH_MATCH[$index]} || $kernelver =~ ${PATCH_MATCH[$index]}) ]]; then
            patch_array[$count]="${PATCH[$index]}"
            count=$((count + 1))
        fi
    done

    build_exclude=
    kmodpack_exclude_reason=
    if [[ $BUILD_EXCLUSIVE_KERNEL && ! $kernelver =~ $BUILD_EXCLUSIVE_KERNEL ]]; then
        build_exclude=yes
        kmodpack_exclude_reason="BUILD_EXCLUSIVE_KERNEL=\"$BUILD_EXCLUSIVE_KERNEL\" does not match kernel $kernelver"
    fi
    if [[ $BUILD_EXCLUSIVE_ARCH && ! $arch =~ $BUILD_EXCLUSIVE_ARCH ]]; then
        build_exclude=yes
        kmodpack_exclude_reason="BUILD_EXCLUSIVE_ARCH=\"$BUILD_EXCLUSIVE_ARCH\" does not match arch $arch"
    fi
    if [[ $BUILD_EXCLUSIVE_CONFIG && -e $kernel_source_dir/.config ]]; then
        local kconf
        for kconf in $BUILD_EXCLUSIVE_CONFIG; do
            case "$kconf" in
                !*) grep -q -E "^${kconf#!}=[ym]" "$kernel_source_dir/.config" && build_exclude=yes &&
                    kmodpack_exclude_reason="BUILD_EXCLUSIVE_CONFIG: kernel $kernelver has ${kconf#!} set" ;;
                *) grep -q -E "^${kconf}=[ym]" "$kernel_source_dir/.config" || { build_exclude=yes
                    kmodpack_exclude_reason="BUILD_EXCLUSIVE_CONFIG: kernel $kernelver does not set $kconf"; } ;;
            esac
        done
    fi
    [[ $package_name ]] || kmodpack_err "no PACKAGE_NAME"
    [[ $package_version ]] || kmodpack_err "no PACKAGE_VERSION"
}

# Records for `eval`: KEY NUL INDEX NUL VALUE NUL (index empty for scalars).
kmodpack_put() { printf '%s\0%s\0%s\0' "$1" "$2" "$3"; }
kmodpack_put_array() {
    local name=$1 i v
    eval "local -a idx=(\"\${!$name[@]}\")"
    for i in "${idx[@]}"; do
        eval "v=\${$name[$i]}"
        kmodpack_put "$name" "$i" "$v"
    done
}

case $kmodpack_mode in
eval)
    # Output of dkms.conf itself goes to files the caller inspects.
    exec 3>&1 5>&2 >"$KMODPACK_WORK/conf.stdout" 4>&1 2>"$KMODPACK_WORK/conf.stderr"
    kmodpack_read_conf
    exec 2>&5 4>&-
    for v in package_name package_version make_command clean pre_build post_build \
        post_add post_install pre_install post_remove obsolete_by build_exclude \
        kmodpack_exclude_reason kmodpack_defaulted_record \
        CLEAN AUTOINSTALL NO_WEAK_MODULES BUILD_EXCLUSIVE_KERNEL BUILD_EXCLUSIVE_ARCH \
        BUILD_EXCLUSIVE_CONFIG SIGN_FILE MOK_SIGNING_KEY MOK_CERTIFICATE; do
        kmodpack_put "$v" "" "${!v}" >&3
    done
    for a in built_module_name built_module_location dest_module_name dest_module_location \
        strip patch_array BUILD_DEPENDS REMAKE_INITRD MODULES_CONF MODULES_CONF_OBSOLETES \
        MODULES_CONF_ALIAS_TYPE MODULES_CONF_OBSOLETE_ONLY MAKE MAKE_MATCH PATCH PATCH_MATCH \
        DEST_MODULE_LOCATION DEST_MODULE_NAME BUILT_MODULE_LOCATION STRIP \
        kmodpack_errors; do
        kmodpack_put_array "$a" >&3
    done
    kmodpack_put end "" "" >&3
    ;;
build)
    # DKMS starts with these unset (rpmbuild's %build exports them).
    unset CC CXX CFLAGS CXXFLAGS LDFLAGS
    # dkms.conf's stdout is dropped as DKMS drops it; its stderr goes to the build log.
    exec 4>/dev/null
    kmodpack_read_conf
    exec 4>&-
    if ((${#kmodpack_errors[@]})); then
        echo "kmodpack: $KMODPACK_DKMS_CONF for kernel $kernelver: ${kmodpack_errors[0]}" >&2
        exit 1
    fi
    if [[ $build_exclude ]]; then
        echo "kmodpack: skipped: $kmodpack_exclude_reason (DKMS does not build this module for this kernel)" >&2
        exit 77
    fi
    # prepare_build: DKMS keeps the source in $source_tree/<module>-<version>
    # and builds in a fresh copy, $dkms_tree/<module>/<version>/build.
    src="$source_tree/$module-$module_version"
    build_dir="$dkms_tree/$module/$module_version/build"
    mkdir -p "$dkms_tree/$module/$module_version" || exit 1
    cp -a "$KMODPACK_SOURCE_DIR/." "$src" || exit 1
    ln -s "$src" "$dkms_tree/$module/$module_version/source" || exit 1
    cp -a "$src/." "$build_dir" || exit 1
    cd "$build_dir" || exit 1
    for p in "${patch_array[@]}"; do
        if [[ ! -e $build_dir/patches/$p ]]; then
            echo "kmodpack: $KMODPACK_DKMS_CONF: patch $p (PATCH[]) is not in patches/" >&2
            exit 1
        fi
        echo "kmodpack: applying patch $p"
        patch -p1 <"./patches/$p" || { echo "kmodpack: patch $p failed to apply" >&2; exit 1; }
    done
    if [[ -e $kernel_source_dir/.config ]]; then
        cc=$(sed -n 's|^CONFIG_CC_VERSION_TEXT="\([^ ]*\) .*"|\1|p' "$kernel_source_dir/.config")
        if command -v "$cc" >/dev/null; then
            export CC="$cc"
        fi
    fi
    kmodpack_script() { # DKMS's run_build_script for PRE_BUILD / POST_BUILD
        [[ $2 ]] || return 0
        local run="$build_dir/$2"
        if [[ -x ${run%% *} ]]; then
            echo "kmodpack: running the $1 script: $2"
            # DKMS does not check the script's exit status either; a failure shows in make.
            (cd "$build_dir" && exec $run) || echo "kmodpack: warning: the $1 script $2 failed (exit status $?); DKMS goes on too" >&2
        else
            echo "kmodpack: the $1 script $2 is not executable; DKMS skips it too" >&2
        fi
    }
    kmodpack_script PRE_BUILD "$pre_build"
    if [[ -f $kernel_source_dir/.kernelvariables ]]; then
        export CC=$(echo -e "show-%:\n\t@echo \$(\$*)\ninclude $kernel_source_dir/.kernelvariables" | make -f - show-CC)
    else
        unset CC
    fi
    the_make_command="${make_command/#make/make -j$parallel_jobs KERNELRELEASE=$kernelver}"
    echo "kmodpack: $the_make_command"
    eval "$the_make_command" || { echo "kmodpack: the DKMS make command failed for kernel $kernelver" >&2; exit 1; }
    for ((count = 0; count < ${#built_module_name[@]}; count++)); do
        ko="${built_module_location[$count]}${built_module_name[$count]}.ko"
        if [[ ! -e $ko ]]; then
            echo "kmodpack: module ${built_module_name[$count]} (BUILT_MODULE_NAME[$count] in $KMODPACK_DKMS_CONF) was not built: $ko is missing" >&2
            exit 1
        fi
        case " $KMODPACK_MODULES " in
            *" ${built_module_name[$count]} "*) ;;
            *) echo "kmodpack: $KMODPACK_DKMS_CONF builds module ${built_module_name[$count]} for kernel $kernelver, which the description does not list" >&2
               exit 1 ;;
        esac
        mkdir -p "$KMODPACK_OUT" && cp -f "$ko" "$KMODPACK_OUT/${built_module_name[$count]}.ko" || exit 1
    done
    for m in $KMODPACK_MODULES; do
        if [[ ! -e $KMODPACK_OUT/$m.ko ]]; then
            echo "kmodpack: module $m is listed in the description but $KMODPACK_DKMS_CONF does not build it for kernel $kernelver" >&2
            exit 1
        fi
    done
    kmodpack_script POST_BUILD "$post_build"
    ;;
*)
    echo "kmodpack: dkms-recipe: unknown mode $kmodpack_mode" >&2
    exit 2
    ;;
esac
