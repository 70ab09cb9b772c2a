package cloudinit

import "fmt"

// SystemConfigPath is where the image carries SystemConfig: cloud-init reads
// /etc/cloud/cloud.cfg.d/*.cfg after cloud.cfg, in name order, and a later
// file replaces a top-level key (a module list) of an earlier one.
const SystemConfigPath = "etc/cloud/cloud.cfg.d/90_lab.cfg"

// ReadyMessage is the final_message a lab seed sets: cloud-init prints it on
// the console when the node's modules have run, and create waits for it
// there instead of polling SSH from the first second. $UPTIME is
// cloud-init's own substitution.
const ReadyMessage = "lab: node ready after $UPTIME seconds"

// ReadyMarker is the start of ReadyMessage as it appears on the console.
const ReadyMarker = "lab: node ready after "

// SystemConfig is the cloud-init configuration baked into the image: the
// only datasource a lab uses and the only modules its seeds need.
type SystemConfig struct {
	// DatasourceList is written in flow style ([NoCloud]): ds-identify,
	// cloud-init's shell generator, reads only a list on the key's own
	// line, and otherwise probes every datasource it knows.
	DatasourceList []string `yaml:"datasource_list,flow"`
	InitModules    []string `yaml:"cloud_init_modules"`
	ConfigModules  []string `yaml:"cloud_config_modules"`
	FinalModules   []string `yaml:"cloud_final_modules"`
}

// LabSystemConfig is what every lab node's cloud-init runs. Everything
// happens in the init stage (cloud-init.service), which ends before sshd
// starts: runcmd only writes its script, scripts_user runs it and
// final_message prints ReadyMessage on the console. The image masks the
// local and config stages (the init stage finds the seed and brings the
// network up itself); the final stage runs no module but stays, after
// the node is ready, because cloud-init status reports done only once it
// has run. The list follows CloudConfig's fields:
//
//	bootcmd                     BootCmd (the delay device under the data disk)
//	write_files                 WriteFiles (certificates, etcd.service)
//	disk_setup                  FSSetup (the etcd data disk; runcmd mounts it)
//	set_hostname, update_hostname, update_etc_hosts   Hostname, ManageEtcHosts
//	users_groups                Users (the lab user and its key)
//	ssh                         SSHKeys, SSHDeleteKeys, DisableRoot (pinned host key)
//	runcmd, scripts_user        RunCmd (install etcd from the seed, start it)
//	final_message               FinalMessage (ReadyMessage)
//
// Locale and ssh_pwauth are the image's (en_US.UTF-8 and an sshd drop-in),
// the same on every node, so locale and set_passwords do not run.
func LabSystemConfig() SystemConfig {
	return SystemConfig{
		DatasourceList: []string{"NoCloud"},
		InitModules: []string{
			"bootcmd",
			"write_files",
			"disk_setup",
			"set_hostname",
			"update_hostname",
			"update_etc_hosts",
			"users_groups",
			"ssh",
			"runcmd",
			"scripts_user",
			"final_message",
		},
		ConfigModules: []string{},
		FinalModules:  []string{},
	}
}

// Modules lists every module of c, in the order cloud-init runs them.
func (c SystemConfig) Modules() []string {
	var out []string
	out = append(out, c.InitModules...)
	out = append(out, c.ConfigModules...)
	return append(out, c.FinalModules...)
}

// Marshal renders the file for SystemConfigPath.
func (c SystemConfig) Marshal() ([]byte, error) {
	b, err := encodeYAML(c)
	if err != nil {
		return nil, fmt.Errorf("rendering cloud-init's system configuration: %w", err)
	}
	return append([]byte("# lab: the only datasource and modules a lab node uses.\n"), b...), nil
}
