package run

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/usersync/usersync/core"
)

// PlanFile is the format of 'usersync plan -o'. The plan carries its
// resolved inputs (core.Plan.Inputs), so applying it reads both sides
// exactly as the plan did.
type PlanFile struct {
	Format string     `json:"format"` // "usersync-plan"
	Run    string     `json:"run_id"`
	Plan   *core.Plan `json:"plan"`
}

const planFormat = "usersync-plan"

// WritePlanFile writes plan, made by run runID, to path.
func WritePlanFile(path string, plan *core.Plan, runID string) error {
	b, err := json.MarshalIndent(PlanFile{Format: planFormat, Run: runID, Plan: plan}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

// ReadPlanFile reads a plan file written by WritePlanFile.
func ReadPlanFile(path string) (*PlanFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f PlanFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s is not a usersync plan file: %v", path, err)
	}
	if f.Format != planFormat || f.Plan == nil {
		return nil, fmt.Errorf("%s is not a usersync plan file (written by 'usersync plan -o')", path)
	}
	return &f, nil
}
