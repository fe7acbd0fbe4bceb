DROP INDEX `objects_node`;--> statement-breakpoint
CREATE INDEX `objects_node_pods` ON `objects` (`resource`,`node_name`,`namespace`,`name`);