# bash completion for devstack, printed by `devstack completion bash`.
#
# Load it in ~/.bashrc with:  source <(devstack completion bash)
# or install it for every shell: devstack completion bash > /etc/bash_completion.d/devstack
#
# The candidates come from devstack itself (--generate-bash-completion), so
# they always match the commands and flags of the devstack that is installed.

_devstack_complete() {
    local cur="${COMP_WORDS[COMP_CWORD]}"
    local -a args=("${COMP_WORDS[@]:1:COMP_CWORD-1}")
    local word
    for word in "${args[@]}"; do
        # After "--" comes the user's own command (devstack up -- COMMAND):
        # devstack has nothing to offer there, and must not be asked, since
        # its parser would then run the command instead of completing it.
        if [[ $word == -- ]]; then
            return 0
        fi
    done
    # A word being typed that starts with "-" asks for flags. A bare "--"
    # is passed as "-": devstack's parser would take "--" as the end of its
    # flags and run the command.
    if [[ $cur == -- ]]; then
        args+=(-)
    elif [[ $cur == -* ]]; then
        args+=("$cur")
    fi
    local IFS=$'\n'
    local candidates
    candidates=$("${COMP_WORDS[0]}" "${args[@]}" --generate-bash-completion 2>/dev/null) || return 0
    COMPREPLY=($(compgen -W "$candidates" -- "$cur"))
}

# -o default: where devstack offers nothing (a --dir value), complete file names.
complete -o bashdefault -o default -F _devstack_complete devstack
