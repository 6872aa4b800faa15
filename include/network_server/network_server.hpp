// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Umbrella header: everything an application needs.

#include <network_server/application_methods.hpp>
#include <network_server/config.hpp>
#include <network_server/http_request.hpp>
#include <network_server/log.hpp>
#include <network_server/server.hpp>
#include <network_server/stats.hpp>
#include <network_server/tls.hpp>
#include <network_server/topics.hpp>
#include <network_server/types.hpp>
