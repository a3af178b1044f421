#compdef devstack
# zsh completion for devstack, printed by `devstack completion zsh`.
#
# Load it in ~/.zshrc (after compinit) with:  source <(devstack completion zsh)
# or install it as _devstack in a directory of $fpath.
#
# The candidates come from devstack itself (--generate-bash-completion), so
# they always match the commands and flags of the devstack that is installed.

_devstack() {
    local -a args candidates
    args=("${(@)words[2,CURRENT-1]}")
    # After "--" comes the user's own command (devstack up -- COMMAND):
    # devstack must not be asked, since its parser would run the command.
    if (( ${args[(I)--]} )); then
        _files
        return
    fi
    # A word being typed that starts with "-" asks for flags. A bare "--"
    # is passed as "-": devstack's parser would take "--" as the end of its
    # flags and run the command.
    if [[ $PREFIX == -- ]]; then
        args+=(-)
    elif [[ $PREFIX == -* ]]; then
        args+=("$PREFIX")
    fi
    candidates=("${(@f)$("${words[1]}" "${(@)args}" --generate-bash-completion 2>/dev/null)}")
    if [[ -n ${candidates[1]} ]]; then
        compadd -a candidates
    else
        _files
    fi
}

if [[ ${funcstack[1]} == _devstack ]]; then
    # Autoloaded from $fpath by the first completion: complete now.
    _devstack "$@"
else
    # Sourced: register for later completions.
    compdef _devstack devstack
fi
