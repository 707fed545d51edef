//! `/system/resource` and `/system/identity`: the singleton menus.
//!
//! `/system/resource` describes the board; the values other than `version` and `uptime` are fixed
//! text that looks like a Cloud Hosted Router (CHR), settable through seeds. `uptime` comes from the
//! simulator's clock and restarts at a reboot.

use super::duration;
use super::row::Row;
use super::version::Version;
use crate::clock::SimTime;

/// The board as `/system/resource` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct Resource {
    /// `architecture-name`.
    pub architecture_name: String,
    /// `board-name`.
    pub board_name: String,
    /// `build-time`.
    pub build_time: String,
    /// `cpu`.
    pub cpu: String,
    /// `cpu-count`.
    pub cpu_count: u32,
    /// `cpu-frequency` (MHz).
    pub cpu_frequency: u32,
    /// `factory-software`.
    pub factory_software: String,
    /// `total-hdd-space` (bytes).
    pub total_hdd_space: u64,
    /// `free-hdd-space` (bytes).
    pub free_hdd_space: u64,
    /// `total-memory` (bytes).
    pub total_memory: u64,
    /// `free-memory` (bytes).
    pub free_memory: u64,
}

impl Default for Resource {
    fn default() -> Self {
        Self {
            // A CHR as captured on 7.19.4 (fixtures/routeros/system-resource.json).
            architecture_name: "x86_64".into(),
            board_name: "CHR".into(),
            build_time: "2025-07-28 10:00:16".into(),
            cpu: "Common".into(),
            cpu_count: 1,
            cpu_frequency: 2099,
            factory_software: "7.1".into(),
            total_hdd_space: 17_040_297_984,
            free_hdd_space: 17_019_092_992,
            total_memory: 1_073_741_824,
            free_memory: 819_691_520,
        }
    }
}

impl Resource {
    /// The `/system/resource` row at simulated time `now` for a router booted at `booted_at`.
    pub fn row(&self, version: &Version, now: SimTime, booted_at: SimTime) -> Row<'_> {
        let uptime_ms = now.saturating_sub(booted_at) / 1000 * 1000;
        let mut row = Row::with_capacity(18);
        row.push("architecture-name", self.architecture_name.as_str());
        row.push("board-name", self.board_name.as_str());
        row.push("build-time", self.build_time.as_str());
        row.push("cpu", self.cpu.as_str());
        row.push("cpu-count", self.cpu_count.to_string());
        row.push("cpu-frequency", self.cpu_frequency.to_string());
        row.push("cpu-load", "1");
        row.push("factory-software", self.factory_software.as_str());
        row.push("free-hdd-space", self.free_hdd_space.to_string());
        row.push("free-memory", self.free_memory.to_string());
        row.push("platform", "MikroTik");
        row.push("total-hdd-space", self.total_hdd_space.to_string());
        row.push("total-memory", self.total_memory.to_string());
        row.push("uptime", duration::format_ms(uptime_ms));
        row.push("version", version.resource_string());
        row.push("write-sect-since-reboot", "1200");
        row.push("write-sect-total", "34567");
        row
    }
}
