/* SPDX-License-Identifier: Apache-2.0 */
/* THE table of Kafka APIs this broker serves: key, name, version range, first
 * flexible version and handler. Dispatch (conn.c) and the ApiVersions answer both
 * read it, so they cannot drift (librdkafka's mock broker does the same). Ranges
 * follow the "suggested" column of the protocol notes, widened where a handler
 * serves more versions; keys not listed are not implemented (transactions,
 * quotas). Any thread (read-only data). */
#include "kafka.h"
#include "api/group_api.h"

#include <stddef.h>

/* Sorted by key. flexible_min comes from the generated schemas (32767: never). */
static const kafka_api_t kafka_apis[] = {
    {0, "Produce", 3, 7, KAFKA_ProduceRequest_FLEX_MIN, kafka_handle_Produce},
    {1, "Fetch", 4, 11, KAFKA_FetchRequest_FLEX_MIN, kafka_handle_Fetch},
    {2, "ListOffsets", 1, 7, KAFKA_ListOffsetsRequest_FLEX_MIN, kafka_handle_ListOffsets},
    {3, "Metadata", 0, 12, KAFKA_MetadataRequest_FLEX_MIN, kafka_handle_Metadata},
    {8, "OffsetCommit", 0, 8, KAFKA_OffsetCommitRequest_FLEX_MIN, kafka_handle_OffsetCommit},
    {9, "OffsetFetch", 0, 8, KAFKA_OffsetFetchRequest_FLEX_MIN, kafka_handle_OffsetFetch},
    {10, "FindCoordinator", 0, 4, KAFKA_FindCoordinatorRequest_FLEX_MIN,
     kafka_handle_FindCoordinator},
    {11, "JoinGroup", 0, 9, KAFKA_JoinGroupRequest_FLEX_MIN, kafka_handle_JoinGroup},
    {12, "Heartbeat", 0, 4, KAFKA_HeartbeatRequest_FLEX_MIN, kafka_handle_Heartbeat},
    {13, "LeaveGroup", 0, 5, KAFKA_LeaveGroupRequest_FLEX_MIN, kafka_handle_LeaveGroup},
    {14, "SyncGroup", 0, 5, KAFKA_SyncGroupRequest_FLEX_MIN, kafka_handle_SyncGroup},
    {15, "DescribeGroups", 0, 5, KAFKA_DescribeGroupsRequest_FLEX_MIN, kafka_handle_DescribeGroups},
    {16, "ListGroups", 0, 5, KAFKA_ListGroupsRequest_FLEX_MIN, kafka_handle_ListGroups},
    {17, "SaslHandshake", 0, 1, KAFKA_SaslHandshakeRequest_FLEX_MIN, kafka_handle_SaslHandshake},
    {18, "ApiVersions", 0, 3, KAFKA_ApiVersionsRequest_FLEX_MIN, kafka_handle_ApiVersions},
    {19, "CreateTopics", 0, 7, KAFKA_CreateTopicsRequest_FLEX_MIN, kafka_handle_CreateTopics},
    {20, "DeleteTopics", 0, 6, KAFKA_DeleteTopicsRequest_FLEX_MIN, kafka_handle_DeleteTopics},
    {21, "DeleteRecords", 0, 2, KAFKA_DeleteRecordsRequest_FLEX_MIN, kafka_handle_DeleteRecords},
    {22, "InitProducerId", 0, 4, KAFKA_InitProducerIdRequest_FLEX_MIN, kafka_handle_InitProducerId},
    {23, "OffsetForLeaderEpoch", 0, 4, KAFKA_OffsetForLeaderEpochRequest_FLEX_MIN,
     kafka_handle_OffsetForLeaderEpoch},
    {29, "DescribeAcls", 0, 3, KAFKA_DescribeAclsRequest_FLEX_MIN, kafka_handle_DescribeAcls},
    {30, "CreateAcls", 0, 3, KAFKA_CreateAclsRequest_FLEX_MIN, kafka_handle_CreateAcls},
    {31, "DeleteAcls", 0, 3, KAFKA_DeleteAclsRequest_FLEX_MIN, kafka_handle_DeleteAcls},
    {32, "DescribeConfigs", 0, 4, KAFKA_DescribeConfigsRequest_FLEX_MIN,
     kafka_handle_DescribeConfigs},
    {33, "AlterConfigs", 0, 2, KAFKA_AlterConfigsRequest_FLEX_MIN, kafka_handle_AlterConfigs},
    {35, "DescribeLogDirs", 0, 4, KAFKA_DescribeLogDirsRequest_FLEX_MIN,
     kafka_handle_DescribeLogDirs},
    {36, "SaslAuthenticate", 0, 2, KAFKA_SaslAuthenticateRequest_FLEX_MIN,
     kafka_handle_SaslAuthenticate},
    {37, "CreatePartitions", 0, 3, KAFKA_CreatePartitionsRequest_FLEX_MIN,
     kafka_handle_CreatePartitions},
    {42, "DeleteGroups", 0, 2, KAFKA_DeleteGroupsRequest_FLEX_MIN, kafka_handle_DeleteGroups},
    {44, "IncrementalAlterConfigs", 0, 1, KAFKA_IncrementalAlterConfigsRequest_FLEX_MIN,
     kafka_handle_IncrementalAlterConfigs},
    {47, "OffsetDelete", 0, 0, KAFKA_OffsetDeleteRequest_FLEX_MIN, kafka_handle_OffsetDelete},
    {60, "DescribeCluster", 0, 1, KAFKA_DescribeClusterRequest_FLEX_MIN,
     kafka_handle_DescribeCluster},
};

const kafka_api_t *kafka_api_table(size_t *count)
{
    *count = sizeof kafka_apis / sizeof kafka_apis[0];
    return kafka_apis;
}

const kafka_api_t *kafka_api_find(int16_t api_key)
{
    for (size_t i = 0; i < sizeof kafka_apis / sizeof kafka_apis[0]; i++)
        if (kafka_apis[i].api_key == api_key) return &kafka_apis[i];
    return NULL;
}
