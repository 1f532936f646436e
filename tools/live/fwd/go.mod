module ks-installer.tools/live-fwd

go 1.24.0
