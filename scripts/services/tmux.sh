# tmux: a real terminal for tests/terminal.rs (what a person sees of `up`, `rotate-token` and
# `down`: capture-pane with the scrollback).
apt_install tmux
echo "tmux $(tmux -V | cut -d' ' -f2)"
